import type { BatchSetup, RecordBatch } from './batches.js'
import type { CheckedLines } from './rows.js'
import type { CsvRow, EndpointKind, LineError, Limits, Mode } from './types.js'

// Apart from types.ts because the options name the batch and line types, which import types.ts.

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
