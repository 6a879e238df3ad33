/**
 * src/util: small helpers any room may use: ids (this file), correlation ids, the body idle guard
 * and the slot gate. A leaf: it imports nothing from src (dependency-cruiser rule util-is-a-leaf),
 * so db may use it too.
 */
import { randomFillSync } from 'node:crypto'

// One randomFillSync per 512 ids instead of a randomBytes call per id (6 µs each: a 100,000-line
// import or check spent about a second on ids alone).
const POOL = Buffer.alloc(8 * 512)
let offset = POOL.length
const ID_BYTES = Buffer.alloc(12)

/** A Rainbow-looking id: 24 hex characters, time first (like a MongoDB ObjectId) so ids sort by creation. */
export function newId (): string {
  if (offset >= POOL.length) {
    randomFillSync(POOL)
    offset = 0
  }
  // One toString of 12 bytes: the concatenation of two hex strings kept three strings per id alive
  // (a 100,000-line check holds tens of thousands of new ids until its last line).
  ID_BYTES.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0)
  POOL.copy(ID_BYTES, 4, offset, offset + 8)
  offset += 8
  return ID_BYTES.toString('hex')
}

export const ID_PATTERN = /^[0-9a-f]{24}$/
