import { fileError } from './file-errors.js'

export interface Dialect {
  delimiter: string
  /** One character, or null when comments are off. */
  comment: string | null
  /** '\n' for LF and CRLF files, '\r' for CR-only files. */
  newline: '\n' | '\r'
}

const QUOTE = 34
const WHITESPACE = /\s/

/**
 * Splits text into records (one per CSV row, spanning lines inside a quoted value) and strips
 * comments. papaparse splits the fields afterwards; this pass only exists because papaparse's
 * `comments` option sees whole-line comments only, while an unquoted comment character anywhere
 * starts a comment (contract §4). It follows papaparse's quoting exactly: a quote opens a quoted
 * value only as the first character of a field, `""` is a quote inside it, and only spaces may
 * follow the closing quote. Anything else is refused here (400501) with its line, so the two can
 * never disagree on where a row ends.
 *
 * Works on a window of the text: a record cut by the window's end is left for the next window
 * (`rest()`), unless the window is final. The current record is read from fields (no allocation).
 */
export class RecordReader {
  /** [start, end) of the current record in the window: comment and trailing CR left out. */
  start = 0
  end = 0
  /** Physical line (1-based) where the current record starts. */
  lineNumber = 0
  /** Where the record after the current one starts (past the window's end after the last one). */
  after = 0
  /** The current record lost a comment. */
  stripped = false

  private text = ''
  private final = false
  private pos = 0
  private line = 1
  private nextQuote = -1
  private nextComment = -1

  constructor (private readonly dialect: Dialect, private readonly maxRecordChars: number) {}

  feed (text: string, final: boolean): void {
    this.text = text
    this.final = final
    this.pos = 0
    this.nextQuote = -1
    this.nextComment = -1
  }

  /** The unread end of the window (an incomplete record), to put before the next chunk. */
  rest (): string {
    return this.text.slice(this.pos)
  }

  /** True when [start, end) holds nothing but white space. */
  blank (): boolean {
    for (let i = this.start; i < this.end; i++) if (!WHITESPACE.test(this.text[i] as string)) return false
    return true
  }

  /** Moves to the next record; false when the window holds no further complete record. */
  next (): boolean {
    const { text, final } = this
    const { delimiter, comment, newline } = this.dialect
    const len = text.length
    const start = this.pos
    if (start >= len) return false
    let line = this.line
    let lineEnd = text.indexOf(newline, start)
    if (lineEnd === -1) {
      if (!final) return this.needMore(len)
      lineEnd = len
    }
    let cursor = start
    let end = -1
    for (;;) {
      const q = this.quoteFrom(cursor)
      const c = comment === null ? Infinity : this.commentFrom(cursor, comment)
      if (c < lineEnd && c < q) {
        end = c
        break
      }
      if (q >= lineEnd) break
      if (q !== start && text[q - 1] !== delimiter) {
        cursor = q + 1
        continue
      }
      let close = -1
      for (let k = q + 1; close === -1;) {
        const e = text.indexOf('"', k)
        if (e === -1) {
          if (!final) return this.needMore(len)
          throw fileError('csvInvalidFile', line, 'a quoted value is never closed (unterminated quote)')
        }
        if (e + 1 === len && !final) return this.needMore(len)
        if (text.charCodeAt(e + 1) === QUOTE) k = e + 2
        else close = e
      }
      while (lineEnd < close) {
        line++
        const n = text.indexOf(newline, lineEnd + 1)
        if (n === -1 && !final) return this.needMore(len)
        lineEnd = n === -1 ? len : n
      }
      let i = close + 1
      while (i < len && text[i] !== delimiter && text[i] !== newline && WHITESPACE.test(text[i] as string)) i++
      if (i === len && !final) return this.needMore(len)
      if (i < len && text[i] !== delimiter && text[i] !== newline && text[i] !== comment) {
        throw fileError('csvInvalidFile', line, 'text after the closing quote of a quoted value (write "" for a quote inside a quoted value)')
      }
      cursor = close + 1
    }
    this.stripped = end !== -1
    if (end === -1) end = newline === '\n' && lineEnd > start && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd
    this.checkLength(end - start)
    this.start = start
    this.end = end
    this.lineNumber = this.line
    this.after = lineEnd + 1
    this.pos = Math.min(lineEnd + 1, len)
    this.line = line + 1
    return true
  }

  private needMore (len: number): false {
    this.checkLength(len - this.pos)
    return false
  }

  // A record this long breaks a limit whatever it holds (D8); refusing it here keeps papaparse
  // from ever building a huge row (a 100,000-column line stays under it and is refused later).
  private checkLength (chars: number) {
    if (chars > this.maxRecordChars) {
      throw fileError('csvOverLimit', this.line, `the line is longer than ${this.maxRecordChars} characters`)
    }
  }

  private quoteFrom (from: number): number {
    if (this.nextQuote < from) {
      const i = this.text.indexOf('"', from)
      this.nextQuote = i === -1 ? Infinity : i
    }
    return this.nextQuote
  }

  private commentFrom (from: number, comment: string): number {
    if (this.nextComment < from) {
      const i = this.text.indexOf(comment, from)
      this.nextComment = i === -1 ? Infinity : i
    }
    return this.nextComment
  }
}

/** The record with the text of fields `from` to `to` (inclusive) removed: password cells of a report's `line`. */
export function blankFields (record: string, from: number, to: number, delimiter: string): string {
  let start = 0
  let cut = -1
  for (let f = 0; ; f++) {
    let i = start
    if (record.charCodeAt(i) === QUOTE) {
      for (let e = record.indexOf('"', i + 1); ; e = record.indexOf('"', e + 2)) {
        if (e === -1 || record.charCodeAt(e + 1) !== QUOTE) {
          i = e === -1 ? record.length : e + 1
          break
        }
      }
    }
    const next = record.indexOf(delimiter, i)
    if (f === Math.max(from, 0)) cut = start
    if (cut !== -1 && (f === to || next === -1)) {
      return record.slice(0, cut) + delimiter.repeat(f - Math.max(from, 0)) + (next === -1 ? '' : record.slice(next))
    }
    if (next === -1) return record
    start = next + 1
  }
}
