import { Errors } from '../errors.js'

/** D9: detected from the header line in this order of preference when counts tie. */
export const DELIMITER_CANDIDATES = [';', ',', '\t', '|'] as const

export const DEFAULT_COMMENT = '%'

// Characters that cannot split fields or start comments without breaking quoting or trimming.
const UNUSABLE = /^[\sA-Za-z0-9"\uFEFF]$/u

/** The `comment` query: one character, `%` by default, null for none. */
export function commentOption (comment: string | null | undefined): string | null {
  if (comment === null) return null
  if (comment === undefined || comment === '') return DEFAULT_COMMENT
  if (comment.length !== 1 || UNUSABLE.test(comment)) {
    throw Errors.badParameter({ param: 'comment', msg: 'must be one character other than a letter, a digit, a space or a double quote' })
  }
  return comment
}

/** The `delimiter` query: one character, not the comment character. */
export function delimiterOption (delimiter: string, comment: string | null): string {
  if (delimiter.length !== 1 || (delimiter !== '\t' && UNUSABLE.test(delimiter))) {
    throw Errors.badParameter({ param: 'delimiter', msg: 'must be one character other than a letter, a digit, a space or a double quote' })
  }
  if (delimiter === comment) {
    throw Errors.badParameter({ param: 'delimiter', msg: 'must differ from the comment character' })
  }
  return delimiter
}

/** LF (and CRLF, whose CR is trimmed away) unless the text only has CRs. */
export function detectNewline (text: string): '\n' | '\r' {
  return !text.includes('\n') && text.includes('\r') ? '\r' : '\n'
}

/**
 * The candidate that occurs most in the header line: the first line that is neither blank nor a
 * comment, cut at its first comment character. `;` when none occurs (a one-column header).
 */
export function detectDelimiter (text: string, comment: string | null, newline: string): string {
  let header = ''
  for (let start = 0; start < text.length;) {
    const end = text.indexOf(newline, start)
    const line = text.slice(start, end === -1 ? text.length : end).trim()
    start = end === -1 ? text.length : end + 1
    if (line === '' || (comment !== null && line.startsWith(comment))) continue
    header = comment === null ? line : line.split(comment)[0] as string
    break
  }
  let best: string = DELIMITER_CANDIDATES[0]
  let bestCount = 0
  for (const candidate of DELIMITER_CANDIDATES) {
    if (candidate === comment) continue
    const count = header.split(candidate).length - 1
    if (count > bestCount) {
      best = candidate
      bestCount = count
    }
  }
  return best
}
