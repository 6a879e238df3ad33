import { createHash } from 'node:crypto'
import { setImmediate as turn } from 'node:timers/promises'

export type Operation = 'import' | 'synchronize' | 'rainbowvoice' | 'revert' | 'check' | 'synchronize-check' | 'rainbowvoice-check'

/** Hashing 25 MB in one call holds the event loop ~60 ms; a megabyte per turn keeps /health answering. */
const SLICE = 1024 * 1024

/** D2: sha256 over companyId, the operation and the body bytes exactly as received. */
export async function requestId (companyId: string, operation: Operation, body: Uint8Array): Promise<string> {
  const hash = createHash('sha256').update(`${companyId}\n${operation}\n`)
  for (let at = 0; at < body.length; at += SLICE) {
    if (at > 0) await turn()
    hash.update(body.subarray(at, at + SLICE))
  }
  return hash.digest('hex')
}
