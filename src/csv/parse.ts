import Papa from 'papaparse'
import { createClock, type Clock } from './clock.js'
import { decodeChunks } from './decode.js'
import { commentOption, delimiterOption, detectDelimiter, detectNewline } from './dialect.js'
import { fileError } from './file-errors.js'
import { resolveHeader, type Header } from './header.js'
import { RecordReader, type Dialect } from './records.js'
import { createRowChecker, type RowChecker } from './rows.js'
import { DEFAULT_LIMITS, type Limits, type ParseOptions, type ParseResult } from './types.js'

/** Characters handed to papaparse at once: about 2 ms of parsing, so yields stay frequent. */
const BATCH_CHARS = 128 * 1024

interface PapaOutput { data: string[][], errors: unknown[] }

/**
 * D9 intake: bytes (or already decoded text) → header, mode, typed rows and every line error.
 * File-level problems reject with a RainbowError 400 (errorDetailsCode from contract §6, the line
 * in errorDetails). Never blocks the event loop for more than `budgetMs` (default 5 ms) at a time,
 * except inside one native step (decoding a UTF-16 body, one papaparse batch).
 */
export async function parseCsv (input: string | Uint8Array, options: ParseOptions): Promise<ParseResult> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits }
  const comment = commentOption(options.comment)
  const forced = options.delimiter === undefined ? undefined : delimiterOption(options.delimiter, comment)
  const clock = createClock(options.budgetMs ?? 5)
  const chunks = typeof input === 'string' ? [input.startsWith('\uFEFF') ? input.slice(1) : input] : decodeChunks(input)

  let file: FileParser | undefined
  let carry = ''
  const it = chunks[Symbol.iterator]()
  for (let current = it.next(); current.done !== true;) {
    const following = it.next()
    const window = carry + current.value
    if (file === undefined) {
      const newline = detectNewline(window)
      const delimiter = forced ?? detectDelimiter(window, comment, newline)
      file = new FileParser({ delimiter, comment, newline }, options, limits, clock)
    }
    carry = await file.consume(window, following.done === true)
    current = following
    if (clock.due()) await clock.pause()
  }
  if (file === undefined) throw fileError('csvNoData', undefined, 'the file is empty')
  return file.finish()
}

class FileParser {
  private readonly reader: RecordReader
  private readonly papa: Papa.Parser
  private header: Header | undefined
  private checker: RowChecker | undefined
  // The batch of records handed to papaparse together, as parallel arrays.
  private starts: number[] = []
  private ends: number[] = []
  private lines: number[] = []
  private contiguous = true
  private batchChars = 0

  constructor (
    private readonly dialect: Dialect,
    private readonly options: ParseOptions,
    private readonly limits: Limits,
    private readonly clock: Clock
  ) {
    // One record may be as long as its columns and fields allow, every quote doubled.
    this.reader = new RecordReader(dialect, limits.maxColumns * (2 * limits.maxFieldChars + 3))
    this.papa = new Papa.Parser({ delimiter: dialect.delimiter, newline: dialect.newline, quoteChar: '"', escapeChar: '"' })
  }

  /** Reads every complete record of the window; returns the incomplete rest. */
  async consume (window: string, final: boolean): Promise<string> {
    const r = this.reader
    r.feed(window, final)
    let lastAfter = -1
    while (r.next()) {
      if (r.blank()) continue
      // A skipped blank line or a stripped comment breaks the batch into pieces to join.
      if (this.starts.length > 0 && r.start !== lastAfter) this.contiguous = false
      this.starts.push(r.start)
      this.ends.push(r.end)
      this.lines.push(r.lineNumber)
      this.batchChars += r.end - r.start
      lastAfter = r.stripped ? -1 : r.after
      if (this.batchChars >= BATCH_CHARS) await this.flush(window, lastAfter)
    }
    await this.flush(window, lastAfter)
    return final ? '' : r.rest()
  }

  finish (): ParseResult {
    if (this.header === undefined || this.checker === undefined) throw fileError('csvNoData', undefined, 'the file has no header line and no data line')
    const { dataLines } = this.checker
    if (dataLines === 0) throw fileError('csvNoData', this.header.lineNumber, 'the file has a header but no data line')
    const { names, mode } = this.header
    return { delimiter: this.dialect.delimiter, header: names, columns: names.length, mode, dataLines, ...this.checker.take() }
  }

  private async flush (window: string, lastAfter: number): Promise<void> {
    const { starts, ends, lines } = this
    const count = starts.length
    if (count === 0) return
    const nl = this.dialect.newline
    let text: string
    if (this.contiguous && lastAfter !== -1) {
      text = window.slice(starts[0], lastAfter)
      if (!text.endsWith(nl)) text += nl
    } else {
      text = starts.map((s, k) => window.slice(s, ends[k])).join(nl) + nl
    }
    const out = this.papa.parse(text, 0, false) as PapaOutput
    // papaparse ends with one empty row after the final line break.
    const aligned = out.errors.length === 0 && out.data.length === count + 1
    for (let k = 0; k < count; k++) {
      const record = window.slice(starts[k], ends[k])
      const cells = aligned ? out.data[k] as string[] : this.parseOne(record, lines[k] as number)
      this.row(cells, lines[k] as number, record)
      if (this.clock.due()) await this.clock.pause()
    }
    this.starts = []
    this.ends = []
    this.lines = []
    this.contiguous = true
    this.batchChars = 0
    const { onRows } = this.options
    if (onRows !== undefined && this.checker !== undefined && this.header !== undefined) {
      const { rows, errors } = this.checker.take()
      if (rows.length > 0 || errors.length > 0) await onRows(rows, errors, this.header.mode)
    }
  }

  // Never expected (the record reader refuses what papaparse would read differently); kept so a
  // disagreement costs speed, not wrong line numbers.
  private parseOne (record: string, lineNumber: number): string[] {
    const out = this.papa.parse(record + this.dialect.newline, 0, false) as PapaOutput
    if (out.errors.length > 0 || out.data.length !== 2) throw fileError('csvInvalidFile', lineNumber, 'the line cannot be read as CSV (check its quotes)')
    return out.data[0] as string[]
  }

  private row (cells: string[], lineNumber: number, record: string): void {
    if (cells.every((c) => c.trim() === '')) return // a line of empty fields (;;;) counts as blank
    if (this.checker === undefined) {
      this.header = resolveHeader(cells, lineNumber, this.options.endpoint, this.limits, this.dialect.delimiter)
      this.checker = createRowChecker(this.header, this.limits, this.dialect.delimiter)
      return
    }
    this.checker.check(cells, lineNumber, record)
  }
}
