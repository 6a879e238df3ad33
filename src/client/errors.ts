/** A wrong command line: exit 1 with the reason (and the command's usage). */
export class UsageError extends Error {}

/** Anything else that stops a command before it has an answer: exit 1. */
export class ClientError extends Error {}

/** The Rainbow error envelope every error answer of the server carries. */
export interface Envelope { errorCode?: number, errorMsg?: string, errorDetails?: unknown, errorDetailsCode?: number }

/** An HTTP error answer; the message is the envelope's errorDetails. */
export class HttpError extends Error {
  constructor (readonly status: number, readonly envelope: Envelope) {
    super(describe(status, envelope))
  }
}

function describe (status: number, e: Envelope): string {
  const details = typeof e.errorDetails === 'string' ? e.errorDetails : e.errorDetails !== undefined ? JSON.stringify(e.errorDetails) : undefined
  const code = e.errorDetailsCode !== undefined ? ` (${e.errorDetailsCode})` : ''
  return `${status} ${e.errorMsg ?? 'error'}${code}: ${details ?? 'no details'}`
}
