import { COLUMNS, DEVICE_COLUMN_NAMES, findColumn, mandatoryColumns, templateColumns } from './columns.js'
import { DELIMITER_CANDIDATES } from './dialect.js'
import { fileError, quoted } from './file-errors.js'
import type { EndpointKind, Limits, Mode } from './types.js'

export interface Header {
  /** Trimmed column names, in file order. */
  names: string[]
  mode: Mode
  lineNumber: number
  actionIndex: number
  loginIndex: number
  /** -1 when the file has no password column. */
  passwordIndex: number
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufeff]/u // eslint-disable-line no-control-regex
const MAX_LISTED = 10

/**
 * D4: synchronize → useranddevice, the Rainbow Voice endpoints → rainbowvoice. On /users/imports
 * (and its check) the header decides: any of pbxId, pbxShortNumber, pbxInternalNumber, number
 * makes a device file, in which user columns are then unknown; otherwise it is a user file.
 * The actions on the lines do not change the mode: a wrong one is an invalid action (400506).
 */
export function detectMode (endpoint: EndpointKind, names: readonly string[]): Mode {
  if (endpoint === 'synchronize') return 'useranddevice'
  if (endpoint === 'rainbowvoice') return 'rainbowvoice'
  return names.some((n) => DEVICE_COLUMN_NAMES.includes(n)) ? 'device' : 'user'
}

/** Checks the header line (D9: unknown, duplicated, malformed or missing columns are a 400 naming them). */
export function resolveHeader (cells: readonly string[], lineNumber: number, endpoint: EndpointKind, limits: Limits, delimiter: string): Header {
  const fail = (kind: 'csvInvalidColumn' | 'csvOverLimit' | 'csvInvalidFile', message: string) => fileError(kind, lineNumber, message)
  if (cells.length > limits.maxColumns) throw fail('csvOverLimit', `the header has ${cells.length} columns, more than the limit of ${limits.maxColumns}`)
  const names = cells.map((c) => c.trim())

  for (const [i, name] of names.entries()) {
    if (name.includes('\u0000')) throw fail('csvInvalidFile', 'the header holds NUL characters: the file looks like UTF-16 without a byte order mark; save it as UTF-8')
    if (name === '') throw fail('csvInvalidColumn', `malformed header: column ${i + 1} has no name`)
    if (CONTROL.test(name)) throw fail('csvInvalidColumn', `malformed header: the name of column ${i + 1} holds a control character`)
    if (name.length > 64) throw fail('csvInvalidColumn', `malformed header: the name of column ${i + 1} is longer than 64 characters`)
  }

  const positions = new Map<string, number[]>()
  names.forEach((n, i) => positions.set(n, [...(positions.get(n) ?? []), i + 1]))
  const duplicated = [...positions].filter(([, at]) => at.length > 1)
  if (duplicated.length > 0) {
    throw fail('csvInvalidColumn', `duplicated column${duplicated.length > 1 ? 's' : ''} ${
      duplicated.slice(0, MAX_LISTED).map(([n, at]) => `${quoted(n) ?? 'name'} (columns ${at.join(', ')})`).join(', ')}`)
  }

  const mode = detectMode(endpoint, names)
  const unknown = names.filter((n) => findColumn(n)?.spec.modes[mode] === undefined)
  if (unknown.length > 0) throw fail('csvInvalidColumn', unknownMessage(unknown, mode, names, delimiter))

  const missing = mandatoryColumns(mode).filter((m) => !names.includes(m))
  if (missing.length > 0) throw fail('csvInvalidColumn', `missing mandatory column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (${mode} mode)`)

  return {
    names,
    mode,
    lineNumber,
    actionIndex: names.indexOf('__action__'),
    loginIndex: names.indexOf('loginEmail'),
    passwordIndex: names.indexOf('password'),
  }
}

const KNOWN_LOWER = new Map(COLUMNS.map((c) => [c.name.replace('{n}', '').toLowerCase(), c.name]))

function unknownMessage (unknown: string[], mode: Mode, names: string[], delimiter: string): string {
  const listed = unknown.slice(0, MAX_LISTED).map((n) => {
    const name = quoted(n) ?? `column ${names.indexOf(n) + 1} (its name has unexpected characters)`
    if (findColumn(n) !== undefined) return `${name} (not a ${mode} column)`
    const near = KNOWN_LOWER.get(n.replace(/\d+$/, '').toLowerCase())
    return near === undefined ? name : `${name} (did you mean ${near}? names are case-sensitive; indexed columns run from 0)`
  })
  const more = unknown.length > MAX_LISTED ? ` and ${unknown.length - MAX_LISTED} more` : ''
  let hint = ` (${mode} mode accepts ${templateColumns(mode).join(', ')}${mode === 'user' || mode === 'useranddevice' ? ' and more indexed columns' : ''})`
  if (mode === 'device') {
    hint = ' (this is a device file because its header has device columns; it takes only __action__, loginEmail, pbxId, pbxShortNumber, pbxInternalNumber and number; use /users/imports/synchronize to change users and their numbers together)'
  }
  const other = DELIMITER_CANDIDATES.find((d) => d !== delimiter && (names[0] ?? '').includes(d))
  if (names.length === 1 && other !== undefined) hint = ` (the header has a single column: is the delimiter ${JSON.stringify(delimiter)} right?)`
  return `unknown column${unknown.length > 1 ? 's' : ''} ${listed.join(', ')}${more}${hint}`
}
