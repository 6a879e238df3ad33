import Papa from 'papaparse'
import type { Header } from './header.js'
import type { Clock } from './clock.js'
import type { Dialect } from './records.js'
import { createLineChecker, type CheckedLines } from './rows.js'
import type { Limits } from './types.js'

/** Records of a file handed to papaparse together: each [start, end) of `text`, its physical line. */
export interface RecordBatch {
  /** The records, each followed by a line break. */
  text: string
  starts: number[]
  ends: number[]
  lines: number[]
  /** Indices (into starts) of the records that lost a comment; absent when none did. */
  cut?: number[] | undefined
}

/** What checking the lines of one file takes, as data (it is sent to the checking threads). */
export interface BatchSetup {
  header: Header
  limits: Limits
  dialect: Dialect
  /** ParseOptions.keepRaw. */
  keepRaw: boolean
}

interface PapaOutput { data: string[][], errors: unknown[] }

export function createPapa (dialect: Dialect): Papa.Parser {
  return new Papa.Parser({ delimiter: dialect.delimiter, newline: dialect.newline, quoteChar: '"', escapeChar: '"' })
}

/** One record's fields; undefined when papaparse cannot read it. */
export function parseRecord (papa: Papa.Parser, record: string, newline: string): string[] | undefined {
  const out = papa.parse(record + newline, 0, false) as PapaOutput
  return out.errors.length > 0 || out.data.length !== 2 ? undefined : out.data[0] as string[]
}

/** A line of empty fields (;;;) counts as blank. */
export const emptyFields = (cells: readonly string[]) => cells.every((c) => c.trim() === '')

/**
 * Splits and checks the data lines of batches of one file, each batch on its own. With a clock, it
 * yields to the event loop between lines (on the thread that serves HTTP).
 */
export function createBatchChecker ({ header, limits, dialect, keepRaw }: BatchSetup) {
  const papa = createPapa(dialect)
  const lines = createLineChecker(header, limits, dialect, keepRaw)
  return async (batch: RecordBatch, clock?: Clock): Promise<CheckedLines> => {
    const { text, starts, ends } = batch
    const cut = batch.cut === undefined ? undefined : new Set(batch.cut)
    const out = papa.parse(text, 0, false) as PapaOutput
    // papaparse ends with one empty row after the final line break.
    const aligned = out.errors.length === 0 && out.data.length === starts.length + 1
    for (let k = 0; k < starts.length; k++) {
      const lineNumber = batch.lines[k] as number
      const record = text.slice(starts[k], ends[k])
      // Never expected (the record reader refuses what papaparse would read differently); kept so
      // a disagreement costs speed, not wrong line numbers.
      const cells = aligned ? out.data[k] as string[] : parseRecord(papa, record, dialect.newline)
      if (cells === undefined) {
        return lines.take({ kind: 'csvInvalidFile', lineNumber, message: 'the line cannot be read as CSV (check its quotes)', counted: false })
      }
      if (emptyFields(cells)) continue
      const fault = lines.check(cells, lineNumber, record, cut?.has(k) === true)
      if (fault !== undefined) return lines.take(fault)
      if (clock?.due() === true) await clock.pause()
    }
    return lines.take()
  }
}

export type BatchChecker = ReturnType<typeof createBatchChecker>
