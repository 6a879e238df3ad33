/**
 * src/csv: reading a provisioning CSV file, and nothing else. parse() here decodes the bytes
 * (decode.ts), finds the dialect (dialect.ts) and header (header.ts), and checks every line against
 * the column registry (columns.ts, the one list of columns) and the zod row schema per mode
 * (row-schema.ts, rows.ts), optionally on worker threads (check-pool.ts). Pure: no database, queue
 * or HTTP (dependency-cruiser rule csv-stays-pure); it imports only itself, src/errors.ts and
 * packages. Anything above may import it: provisioning, services, jobs, routes, openapi, app.ts.
 */
import type Papa from 'papaparse'
import { createBatchChecker, createPapa, emptyFields, parseRecord, type BatchChecker, type BatchSetup, type RecordBatch } from './batches.js'
import { createClock, type Clock } from './clock.js'
import { decodeChunks } from './decode.js'
import { commentOption, delimiterOption, detectDelimiter, detectNewline } from './dialect.js'
import { fileError } from './file-errors.js'
import { resolveHeader, type Header } from './header.js'
import { RecordReader, type Dialect } from './records.js'
import { createLineTally, type CheckedLines } from './rows.js'
import type { ParseOptions } from './parse-options.js'
import { DEFAULT_LIMITS, type CsvRow, type LineError, type Limits, type ParseResult } from './types.js'

/** Characters handed to papaparse at once: about 2 ms of parsing, so yields stay frequent. */
const BATCH_CHARS = 128 * 1024
/** Batches a checking thread has queued: enough to keep it busy while this thread plans, few enough to keep memory flat. */
const BATCHES_PER_THREAD = 2

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

const ignore = () => {}

class FileParser {
  private readonly reader: RecordReader
  private readonly papa: Papa.Parser
  private readonly tally
  private header: Header | undefined
  private setup: BatchSetup | undefined
  private checker: BatchChecker | undefined
  // The batch of records being gathered, as parallel arrays (offsets in the current window).
  private starts: number[] = []
  private ends: number[] = []
  private lines: number[] = []
  private cut: number[] = []
  private contiguous = true
  private batchChars = 0
  /** Batches being checked, in file order. */
  private readonly pending: Array<Promise<CheckedLines>> = []
  private readonly rows: CsvRow[] = []
  private readonly errors: LineError[] = []

  constructor (
    private readonly dialect: Dialect,
    private readonly options: ParseOptions,
    private readonly limits: Limits,
    private readonly clock: Clock
  ) {
    // One record may be as long as its columns and fields allow, every quote doubled.
    this.reader = new RecordReader(dialect, limits.maxColumns * (2 * limits.maxFieldChars + 3))
    this.papa = createPapa(dialect)
    this.tally = createLineTally(limits)
  }

  /** Reads every complete record of the window; returns the incomplete rest. */
  async consume (window: string, final: boolean): Promise<string> {
    const r = this.reader
    r.feed(window, final)
    let lastAfter = -1
    for (;;) {
      let more: boolean
      try {
        more = r.next()
      } catch (err) {
        // The batches handed over before this line are settled first, as when checked here: one of them may be refused.
        await this.settleAll()
        throw err
      }
      if (!more) break
      if (r.blank()) continue
      if (this.header === undefined) {
        this.headerLine(window.slice(r.start, r.end), r.lineNumber)
        if (this.clock.due()) await this.clock.pause()
        continue
      }
      // A skipped blank line or a stripped comment breaks the batch into pieces to join.
      if (this.starts.length > 0 && r.start !== lastAfter) this.contiguous = false
      this.starts.push(r.start)
      this.ends.push(r.end)
      if (r.stripped) this.cut.push(this.lines.length)
      this.lines.push(r.lineNumber)
      this.batchChars += r.end - r.start
      lastAfter = r.stripped ? -1 : r.after
      if (this.batchChars >= BATCH_CHARS) await this.flush(window, lastAfter)
    }
    await this.flush(window, lastAfter)
    return final ? '' : r.rest()
  }

  async finish (): Promise<ParseResult> {
    await this.settleAll()
    if (this.header === undefined) throw fileError('csvNoData', undefined, 'the file has no header line and no data line')
    const { dataLines } = this.tally
    if (dataLines === 0) throw fileError('csvNoData', this.header.lineNumber, 'the file has a header but no data line')
    const { names, mode } = this.header
    return { delimiter: this.dialect.delimiter, header: names, columns: names.length, mode, dataLines, rows: this.rows, errors: this.errors }
  }

  private headerLine (record: string, lineNumber: number): void {
    const cells = parseRecord(this.papa, record, this.dialect.newline)
    if (cells === undefined) throw fileError('csvInvalidFile', lineNumber, 'the line cannot be read as CSV (check its quotes)')
    if (emptyFields(cells)) return
    this.header = resolveHeader(cells, lineNumber, this.options.endpoint, this.limits, this.dialect.delimiter)
    this.setup = { header: this.header, limits: this.limits, dialect: this.dialect, keepRaw: this.options.keepRaw ?? true }
    if (this.options.pool === undefined) this.checker = createBatchChecker(this.setup)
  }

  private async flush (window: string, lastAfter: number): Promise<void> {
    const { starts, ends, lines, cut } = this
    const count = starts.length
    if (count === 0 || this.setup === undefined) return
    const nl = this.dialect.newline
    const first = starts[0] as number
    let batch: RecordBatch
    if (this.contiguous && lastAfter !== -1) {
      let text = window.slice(first, lastAfter)
      if (!text.endsWith(nl)) text += nl
      batch = { text, starts: starts.map((s) => s - first), ends: ends.map((e) => e - first), lines }
    } else {
      const records = starts.map((s, k) => window.slice(s, ends[k]))
      const at: number[] = []
      let offset = 0
      for (const record of records) {
        at.push(offset)
        offset += record.length + 1
      }
      batch = { text: records.join(nl) + nl, starts: at, ends: at.map((s, k) => s + (records[k] as string).length), lines }
    }
    if (cut.length > 0) batch.cut = cut
    this.starts = []
    this.ends = []
    this.lines = []
    this.cut = []
    this.contiguous = true
    this.batchChars = 0

    const { pool } = this.options
    const checked = pool === undefined ? (this.checker as BatchChecker)(batch, this.clock) : pool.check(this.setup, batch)
    // Settled in order below; the batches after a refused one are never read.
    checked.catch(ignore)
    this.pending.push(checked)
    const queued = pool === undefined ? 0 : BATCHES_PER_THREAD * pool.threads
    while (this.pending.length > queued) await this.settle()
  }

  private async settleAll (): Promise<void> {
    while (this.pending.length > 0) await this.settle()
  }

  /** The oldest batch: counted, its duplicates found, then handed over (or kept). */
  private async settle (): Promise<void> {
    const batch = await (this.pending.shift() as Promise<CheckedLines>)
    this.tally.add(batch)
    const { rows, errors } = batch
    const { onRows } = this.options
    if (onRows === undefined) {
      for (const row of rows) this.rows.push(row)
      for (const e of errors) this.errors.push(e)
    } else if (rows.length > 0 || errors.length > 0) {
      await onRows(rows, errors, (this.header as Header).mode)
    }
  }
}
