import { randomBytes } from 'node:crypto'

/** A Rainbow-looking id: 24 hex characters, time first (like a MongoDB ObjectId) so ids sort by creation. */
export function newId (): string {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')
  return time + randomBytes(8).toString('hex')
}

export const ID_PATTERN = /^[0-9a-f]{24}$/
