// Pure CSV helpers of the console (no DOM): the results download, the raw values of a checked file,
// and the file of the lines to retry. test/console/csv.test.ts holds them to the client's rule.

export interface ReportLine {
  lineNumber: number
  action: string
  loginEmail: string
  status: string
  userId?: string
  errorCode?: number
  errorMsg?: string
}

/** The columns of the results file: the same as `massprov-client report --csv`. */
export const RESULT_COLUMNS = ['lineNumber', 'action', 'loginEmail', 'status', 'errorCode', 'errorMsg'] as const

/**
 * One cell: a value a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a leading tab or
 * carriage return) gets a leading `'`, then RFC 4180 quoting when needed (src/client/report-csv.ts's rule).
 */
export function csvCell (value: unknown): string {
  let s = value === undefined || value === null ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** The results file: a header, then one line per input line, in line order. */
export function resultsCsv (report: readonly ReportLine[]): string {
  const lines = [...report].sort((a, b) => a.lineNumber - b.lineNumber)
    .map((l) => RESULT_COLUMNS.map((c) => csvCell(l[c])).join(','))
  return [RESULT_COLUMNS.join(','), ...lines].join('\n') + '\n'
}

const DELIMITERS = [';', ',', '\t', '|']

/** The delimiter of a file's header line: the one given, else the first of ; , TAB | it holds. */
export function detectDelimiter (header: string, given?: string): string {
  if (given) return given
  return DELIMITERS.find((d) => header.includes(d)) ?? ';'
}

/** The values of one physical line, honouring double quotes ("" inside a quoted value). */
export function splitLine (line: string, delimiter: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++ } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === delimiter) { out.push(cur); cur = '' } else cur += c
  }
  out.push(cur)
  return out
}

/** The physical lines of a file (1-based as the server counts them: line 1 is the header). */
export function fileLines (text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)
}

const SECRET_COLUMN = /password/i

/** The raw value a check error points at, passwords masked; the whole line (masked) without a column. */
export function rawValue (text: string, lineNumber: number, column: string | undefined, delimiter?: string): string {
  const lines = fileLines(text)
  const header = lines[0] ?? ''
  const d = detectDelimiter(header, delimiter)
  const names = splitLine(header, d).map((n) => n.trim())
  const values = splitLine(lines[lineNumber - 1] ?? '', d)
  const masked = values.map((v, i) => SECRET_COLUMN.test(names[i] ?? '') && v !== '' ? '••••••' : v)
  if (column === undefined) return masked.join(d === '\t' ? ' ' : d)
  const at = names.indexOf(column)
  return at < 0 ? '' : masked[at] ?? ''
}

/**
 * The file of the given lines only, under the original header: from the original file when there
 * is one, else (the file is gone) from the report, with the action and the login only.
 */
export function retryCsv (lineNumbers: readonly number[], original: string | undefined, report: readonly ReportLine[]): string {
  const wanted = new Set(lineNumbers)
  if (original !== undefined) {
    const lines = fileLines(original)
    const body = lines.filter((_l, i) => i > 0 && wanted.has(i + 1))
    return [lines[0] ?? '', ...body].join('\n') + '\n'
  }
  const quote = (v: string) => /[;"]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
  const rows = report.filter((l) => wanted.has(l.lineNumber)).map((l) => `${quote(l.action)};${quote(l.loginEmail)}`)
  return ['__action__;loginEmail', ...rows].join('\n') + '\n'
}
