/** A line that cannot be planned: its code and message become the line's result (a warning when `warning`). */
export class LineFailure extends Error {
  constructor (readonly code: number, message: string, readonly warning = false) { super(message) }
}
