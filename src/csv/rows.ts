import type { FileErrorKind } from './file-errors.js'
import { fileError, quoted } from './file-errors.js'
import type { Header } from './header.js'
import { LineErrorCodes } from './line-errors.js'
import { blankFields, type Dialect } from './records.js'
import { compileRowSchema, issuesToLineErrors, type RawRow } from './row-schema.js'
import { ACTIONS, type Action, type CsvRow, type LineError, type Limits, type Mode, type RowValues } from './types.js'

// C0, DEL and C1 controls (NUL included). A tab delimiter never reaches a value, and a line break
// inside a quoted value is refused too: no provisioning field is multi-line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u // eslint-disable-line no-control-regex

const NO_VALUES: RowValues = Object.freeze({})

// trim() allocates even when there is nothing to trim; most cells have no white space at either end.
function edgeSpace (s: string): boolean {
  if (s.length === 0) return false
  const a = s.charCodeAt(0)
  const b = s.charCodeAt(s.length - 1)
  return a <= 32 || b <= 32 || (a >= 0x85 && a <= 0xa0) || (b >= 0x85 && b <= 0xa0) || a >= 0x1680 || b >= 0x1680
}

const ACTION_HINTS: Partial<Record<Mode, string>> = {
  user: '; attach, force_attach and detach need the device columns (pbxId, pbxShortNumber, pbxInternalNumber, number) in the header',
  device: '; this is a device file because its header has device columns: use /users/imports/synchronize to change users and their numbers together',
}

/**
 * A file-level error found on a line, as data: lines may be checked on another thread, and the
 * thread reading the file turns it into the RainbowError once the lines before it are counted.
 */
export interface LineFault {
  kind: FileErrorKind
  lineNumber: number
  message: string
  /** The line counts as a data line before this fault (the row limit, checked in file order, wins). */
  counted: boolean
}

/** Checked lines of one batch, before the checks that need the lines before them (see createLineTally). */
export interface CheckedLines {
  rows: CsvRow[]
  errors: LineError[]
  /** Per row: where in `errors` a duplicate-login error of its line goes; -1 when its login is not compared. */
  logins: number[]
  /** The file-level error that stopped the batch, after its rows. */
  fault?: LineFault | undefined
}

/**
 * Checks data lines against their header, each on its own (what can run on any thread): D8 limits
 * (400504) and an invalid __action__ (400506) are faults that stop the batch; everything else
 * becomes line errors, all of them, and the line stays in `rows`, marked invalid.
 */
export function createLineChecker (header: Header, limits: Limits, dialect: Pick<Dialect, 'delimiter' | 'comment'>, keepRaw: boolean) {
  const { names, mode, actionIndex, loginIndex, passwordIndex } = header
  const { delimiter, comment } = dialect
  // An unquoted comment character inside a value cuts the line there: say so, or the line reads as
  // merely short, or its last value as too short.
  const commentHint = `: an unquoted ${comment ?? ''} starts a comment that runs to the end of the line; quote values that contain ${comment ?? ''}`
  const { schema } = compileRowSchema(names, mode)
  const actions = new Set<string>(ACTIONS[mode])
  let out: CheckedLines = { rows: [], errors: [], logins: [] }

  const columnName = (i: number) => names[i] ?? `#${i + 1}`
  const fault = (kind: FileErrorKind, lineNumber: number, message: string, counted = false): LineFault => ({ kind, lineNumber, message, counted })

  /** `cut`: the record lost a comment (records.ts) before reaching here. */
  function check (cells: string[], lineNumber: number, record: string, cut = false): LineFault | undefined {
    if (cells.length > limits.maxColumns) {
      return fault('csvOverLimit', lineNumber, `the line has ${cells.length} fields, more than the limit of ${limits.maxColumns} columns`)
    }
    // One pass: limit, trim, and the object zod validates.
    const input: RawRow = {}
    for (let i = 0; i < cells.length; i++) {
      let cell = cells[i] as string
      if (cell.length > limits.maxFieldChars) {
        return fault('csvOverLimit', lineNumber, `the value of column ${columnName(i)} is longer than ${limits.maxFieldChars} characters`)
      }
      if (edgeSpace(cell)) cells[i] = cell = cell.trim()
      if (i < names.length) input[names[i] as string] = cell
    }
    let action = cells[actionIndex] ?? ''
    // The seed: "delete, update or create (by default)".
    if (action === '' && mode === 'user') input.__action__ = action = 'create'
    if (!actions.has(action)) {
      const what = action === '' ? 'empty __action__' : `invalid __action__ ${quoted(action) ?? '(a value with unexpected characters)'}`
      return fault('csvInvalidAction', lineNumber, `${what} in a ${mode} file: expected ${ACTIONS[mode].join(', ')}${ACTION_HINTS[mode] ?? ''}`, true)
    }
    const loginEmail = (cells[loginIndex] ?? '').toLowerCase()
    // A line with missing or extra fields may have its password anywhere near its column.
    const shift = Math.abs(cells.length - names.length)
    const raw = !keepRaw
      ? ''
      : passwordIndex === -1 || (shift === 0 && cells[passwordIndex] === '')
        ? record
        : blankFields(record, passwordIndex - shift, passwordIndex + shift, delimiter)
    const row: CsvRow = { lineNumber, action: action as Action, loginEmail, valid: true, values: NO_VALUES, raw }
    const { errors } = out
    out.rows.push(row)
    const before = errors.length

    if (cells.length !== names.length) {
      const hint = cut && cells.length < names.length ? commentHint : ''
      errors.push({ lineNumber, code: LineErrorCodes.fieldCount, message: `the line has ${cells.length} fields, the header has ${names.length}${hint}` })
      out.logins.push(-1)
      row.valid = false
      return
    }

    let controlled: Set<string> | undefined
    if (CONTROL.test(record)) {
      for (let i = 0; i < cells.length; i++) {
        const bad = CONTROL.exec(cells[i] as string)
        if (bad === null) continue
        const column = columnName(i)
        const what = bad[0] === '\u0000' ? 'a NUL character' : `a control character (U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`
        errors.push({ lineNumber, column, code: LineErrorCodes.controlCharacter, message: `${column}: contains ${what}` })
        ;(controlled ??= new Set()).add(column)
      }
    }
    out.logins.push(loginEmail === '' ? -1 : errors.length)

    const parsed = schema.safeParse(input)
    if (!parsed.success) {
      // The comment began inside the last value (not right after a delimiter): that value was cut.
      const cutColumn = cut && !record.trimEnd().endsWith(delimiter) ? names[cells.length - 1] : undefined
      for (const e of issuesToLineErrors(parsed.error.issues, lineNumber)) {
        if (e.column !== undefined && e.column === cutColumn) e.message += commentHint
        if (e.column === undefined || controlled?.has(e.column) !== true) errors.push(e)
      }
    }
    if (errors.length > before) row.valid = false
    else if (parsed.success) row.values = parsed.data
  }

  return {
    check,
    /** The lines checked since the last call, handed over and forgotten. */
    take (f?: LineFault): CheckedLines {
      const taken = out
      taken.fault = f
      out = { rows: [], errors: [], logins: [] }
      return taken
    },
  }
}

export type LineChecker = ReturnType<typeof createLineChecker>

/**
 * The checks that need every line before: the row limit (D8) and a loginEmail already on an earlier
 * line (compared without case; the error goes on the later line, which becomes invalid), except an
 * attach or force_attach right after a detach of the same user: moving a user to another extension
 * takes those two lines, in the order the seed's device mode implies. Batches are added in file
 * order; a batch's fault is thrown after its rows are counted.
 */
export function createLineTally (limits: Limits) {
  // A dictionary, not a Map: a property key is internalised, which copies the e-mail out of the
  // parsed text it was cut from. Map keys (here, and the planner's) kept every batch of a 25 MB file alive.
  const firstLineOf: Record<string, number> = Object.create(null) as Record<string, number>
  // The logins whose only line so far is a detach: one attach may follow.
  const detachedOnly: Record<string, true> = Object.create(null) as Record<string, true>
  let dataLines = 0

  const count = (lineNumber: number) => {
    if (dataLines++ >= limits.maxRows) throw fileError('csvOverLimit', lineNumber, `the file has more than ${limits.maxRows} data lines`)
  }

  return {
    get dataLines () { return dataLines },
    /** Counts the batch's lines and adds its duplicate-login errors in place, in line order. */
    add (batch: CheckedLines): void {
      const { rows, errors, logins } = batch
      let merged: LineError[] | undefined
      let copied = 0
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k] as CsvRow
        count(row.lineNumber)
        const at = logins[k] as number
        if (at === -1) continue
        const first = firstLineOf[row.loginEmail]
        if (first === undefined) {
          firstLineOf[row.loginEmail] = row.lineNumber
          if (row.action === 'detach') detachedOnly[row.loginEmail] = true
          continue
        }
        if (detachedOnly[row.loginEmail] === true && (row.action === 'attach' || row.action === 'force_attach')) {
          delete detachedOnly[row.loginEmail]
          continue
        }
        delete detachedOnly[row.loginEmail]
        merged ??= []
        while (copied < at) merged.push(errors[copied++] as LineError)
        merged.push({ lineNumber: row.lineNumber, column: 'loginEmail', code: LineErrorCodes.duplicateLogin, message: `loginEmail: already on line ${first} (compared without case)` })
        row.valid = false
        row.values = NO_VALUES
      }
      if (merged !== undefined) {
        while (copied < errors.length) merged.push(errors[copied++] as LineError)
        batch.errors = merged
      }
      const { fault } = batch
      if (fault === undefined) return
      if (fault.counted) count(fault.lineNumber)
      throw fileError(fault.kind, fault.lineNumber, fault.message)
    },
  }
}
