import type { LineErrorCode } from './line-errors.js'

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
