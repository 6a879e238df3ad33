import { createHash } from 'node:crypto'

export type Operation = 'import' | 'synchronize' | 'rainbowvoice' | 'check' | 'synchronize-check' | 'rainbowvoice-check'

/** D2: sha256 over companyId, the operation and the body bytes exactly as received. */
export function requestId (companyId: string, operation: Operation, body: Uint8Array): string {
  return createHash('sha256').update(`${companyId}\n${operation}\n`).update(body).digest('hex')
}
