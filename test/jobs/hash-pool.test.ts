import { afterEach, describe, expect, it } from 'vitest'
import { createHashPool, type PasswordHasher } from '../../src/services/hash-pool.js'
import { verifyPassword } from '../../src/services/passwords.js'

// The import's hashing pool: argon2id hashes that logins accept, computed on its own threads (the
// event loop keeps turning), queued work dropped on abort and on close.

describe('hash pool', () => {
  let pool: PasswordHasher | undefined
  afterEach(async () => { await pool?.close() })

  it('hashes on its threads: the hashes verify and the event loop is never held for a hash', async () => {
    pool = createHashPool(1)
    // Counted, not timed: while six hashes run on the pool the event loop keeps turning; run on the
    // loop, each hash would hold it for its whole 10–30 ms and the loop would turn about once per hash.
    let turns = 0
    let hashing = true
    const spin = () => { turns++; if (hashing) setImmediate(spin) }
    setImmediate(spin)
    const passwords = Array.from({ length: 6 }, (_, i) => `Pool-Pw!${i}`)
    const hashes = await Promise.all(passwords.map((p) => pool!.hash(p)))
    hashing = false
    expect(hashes.every((h) => h.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'))).toBe(true)
    expect(await verifyPassword(hashes[5]!, passwords[5]!)).toBe(true)
    expect(await verifyPassword(hashes[5]!, passwords[4]!)).toBe(false)
    expect(turns).toBeGreaterThan(60)
  })

  it('an abort drops the hashes still queued; close rejects what is left', async () => {
    pool = createHashPool(1)
    const abort = new AbortController()
    const first = pool.hash('Pool-Pw!first', abort.signal)
    const queued = Array.from({ length: 5 }, (_, i) => pool!.hash(`Pool-Pw!q${i}`, abort.signal).then(() => 'hashed', (err: Error) => err.message))
    abort.abort(new Error('stop'))
    await expect(first).resolves.toMatch(/^\$argon2id\$/)
    expect(await Promise.all(queued)).toEqual(Array(5).fill('stop'))
    await expect(pool.hash('x', abort.signal)).rejects.toThrow('stop')
    const pending = pool.hash('Pool-Pw!late').then(() => 'hashed', (err: Error) => err.message)
    await pool.close()
    expect(await pending).toMatch(/closed/)
    await expect(pool.hash('x')).rejects.toThrow(/closed/)
  })
})
