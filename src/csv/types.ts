import type { BatchSetup, RecordBatch } from './batches.js'
import type { LineErrorCode } from './line-errors.js'
import type { CheckedLines } from './rows.js'

export const MODES = ['user', 'device', 'useranddevice', 'rainbowvoice'] as const
export type Mode = (typeof MODES)[number]

/** The endpoint family a file was sent to; it decides the mode (D4). */
export type EndpointKind = 'import' | 'synchronize' | 'rainbowvoice'

/** `__action__` values per mode (contract §4). */
export const ACTIONS = {
  user: ['create', 'update', 'delete'],
  device: ['attach', 'force_attach', 'detach'],
  useranddevice: ['delete', 'upsert', 'sync', 'detach'],
  rainbowvoice: ['upsert', 'delete', 'detach'],
} as const satisfies Record<Mode, readonly string[]>

export type Action = (typeof ACTIONS)[Mode][number]

/** D8, each configurable. */
export interface Limits {
  maxColumns: number
  maxFieldChars: number
  maxRows: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = { maxColumns: 200, maxFieldChars: 4096, maxRows: 250_000 }

export interface ParseOptions {
  endpoint: EndpointKind
  /** One character; detected among `;` `,` TAB `|` from the header line when absent. */
  delimiter?: string | undefined
  /** One character, default `%`; null disables comments. */
  comment?: string | null | undefined
  limits?: Partial<Limits> | undefined
  /** Longest stretch of synchronous work between two yields to the event loop (default 5 ms). */
  budgetMs?: number | undefined
  /**
   * Streams the lines instead of collecting them, to keep memory flat on large files: called after
   * each batch (about 128 K characters) with its rows and line errors, which the result then leaves
   * out. A file-level error can still reject afterwards: what was handed over belongs to a refused file.
   */
  onRows?: ((rows: CsvRow[], errors: LineError[], mode: Mode) => void | Promise<void>) | undefined
  /**
   * Splits and validates the lines on these threads, batch after batch, while this thread counts
   * them, finds duplicate logins and runs `onRows`: the same result, in less time on several cores.
   */
  pool?: LineThreads | undefined
  /**
   * False leaves every row's `raw` empty: the check never shows a line, and copying the lines from
   * the threads to the event loop was a third of what they sent.
   */
  keepRaw?: boolean | undefined
}

/** Threads that check batches of lines (check-pool.ts). */
export interface LineThreads {
  readonly threads: number
  check: (setup: BatchSetup, batch: RecordBatch) => Promise<CheckedLines>
}

export interface LineError {
  /** 1-based physical line of the file (comment, blank and continuation lines counted). */
  lineNumber: number
  column?: string
  code: LineErrorCode
  message: string
}

export type AccountType = 'free' | 'basic' | 'advanced'
export type Visibility = 'same_than_company' | 'public' | 'private' | 'closed' | 'isolated' | 'hotspot' | 'none'
export type AuthenticationType = 'DEFAULT' | 'RAINBOW' | 'SAML' | 'OIDC'

/**
 * Typed, normalised fields of a data line. A key is present when its column is in the header;
 * `null` means the cell was empty (update/upsert ignore it, sync clears the field: D10).
 * Indexed columns are gathered by position: entry n is column n (`tags2` → `tags[2]`), `''` an empty
 * cell, `null` an index the header does not have (a column the file does not name is left alone).
 */
export interface RowValues {
  password?: string | null
  title?: string | null
  firstName?: string | null
  lastName?: string | null
  nickName?: string | null
  jobTitle?: string | null
  department?: string | null
  userInfo1?: string | null
  userInfo2?: string | null
  /** ISO 3166-1 alpha-3, upper case. */
  country?: string | null
  language?: string | null
  timezone?: string | null
  visibility?: Visibility | null
  accountType?: AccountType | null
  isInitialized?: boolean | null
  authenticationType?: AuthenticationType | null
  selectedAppCustomisationTemplateName?: string | null
  photoUrl?: string | null
  /** E.164. */
  businessPhones?: Array<string | null>
  /** E.164. */
  mobilePhones?: Array<string | null>
  /** Lower case. */
  emails?: Array<string | null>
  tags?: Array<string | null>
  services?: Array<string | null>
  ldapId?: string | null
  pbxId?: string | null
  pbxShortNumber?: string | null
  /** E.164. */
  pbxInternalNumber?: string | null
  /** E.164. */
  number?: string | null
  shortNumber?: string | null
  /** Lower case, colon separated. */
  macAddress?: string | null
  /** E.164. */
  ddiE164Number?: string | null
}

export interface CsvRow {
  lineNumber: number
  action: Action
  /** Trimmed and lower-cased; may be invalid or empty when `valid` is false. */
  loginEmail: string
  /** False when the line has at least one entry in `errors`; `values` is then empty. */
  valid: boolean
  values: RowValues
  /** The line as parsed (comment removed), with the password cell blanked; empty with `keepRaw: false`. */
  raw: string
}

export interface ParseResult {
  delimiter: string
  header: string[]
  columns: number
  mode: Mode
  /** Number of data lines (blank and comment lines left out). */
  dataLines: number
  /** Every data line, valid or not, in file order (empty when streamed to `onRows`). */
  rows: CsvRow[]
  /** Every line-level error, in file order (empty when streamed to `onRows`). */
  errors: LineError[]
}
