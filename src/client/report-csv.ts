/** One line of an import's full report, as `GET /users/imports/:reqId/details` gives it. */
export interface ReportLine {
  lineNumber: number
  action: string
  loginEmail: string
  status: string
  userId?: string
  errorCode?: number
  errorMsg?: string
}

export const REPORT_COLUMNS = ['lineNumber', 'action', 'loginEmail', 'status', 'errorCode', 'errorMsg'] as const

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a leading tab or
 * carriage return, OWASP's list) gets a leading `'`; then quotes as RFC 4180 when needed.
 */
export function csvCell (value: unknown): string {
  let s = value === undefined || value === null ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function reportCsvLine (line: ReportLine): string {
  return REPORT_COLUMNS.map((c) => csvCell(line[c])).join(',')
}

export const reportCsvHeader = () => REPORT_COLUMNS.join(',')
