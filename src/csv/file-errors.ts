import { Errors, RainbowError } from '../errors.js'

export type FileErrorKind = 'csvInvalidFile' | 'csvInvalidColumn' | 'csvOverLimit' | 'csvInvalidAction' | 'csvNoData'

/** A whole-file 400 (D7, D9): errorDetails is "Line N: …" when a line is at fault. */
export function fileError (kind: FileErrorKind, lineNumber: number | undefined, message: string): RainbowError {
  return Errors[kind](lineNumber === undefined ? message : `Line ${lineNumber}: ${message}`)
}

/** The line a file-level error names, if any. */
export function lineOfFileError (err: unknown): number | undefined {
  if (!(err instanceof RainbowError) || typeof err.details !== 'string') return undefined
  const m = /^Line (\d+): /.exec(err.details)
  return m === null ? undefined : Number(m[1])
}

// Only name-like text is ever quoted back: a password (which needs a digit and a special
// character) can then never reach an error, wherever it sits in a broken file.
const SHOWABLE = /^[A-Za-z_][A-Za-z0-9_ .{}()-]{0,63}$/

/** A header name or cell for a message, or undefined when it is not name-like text. */
export function quoted (s: string): string | undefined {
  return SHOWABLE.test(s) ? JSON.stringify(s) : undefined
}
