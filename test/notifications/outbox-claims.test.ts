import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claimOwed, enqueueCommandEnded, enqueueImportStatus, markSent, releaseFailed, releaseUnattempted } from '../../src/db/outbox-repository.js'
import { stanzaFor } from '../../src/notifications/stanzas.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'

// The outbox as the relay uses it: leases, backoff, once-only import commands, stanzas.
describe.each(dbKinds())('outbox claims on %s', (kind) => {
  let tdb: TestDb

  beforeAll(async () => { tdb = await openTestDb(kind) })
  afterAll(async () => { await tdb?.close() })

  const row = async (id: string) => (await tdb.db.query<{ attempts: number, due: boolean, wait: number, sent: boolean, lastError: string | null }>(
    `SELECT attempts, next_attempt_at <= now() AS due, extract(epoch FROM next_attempt_at - now())::float8 AS wait,
            sent_at IS NOT NULL AS sent, last_error AS "lastError" FROM outbox WHERE id = $1`, [id]))[0]!
  const clear = () => tdb.db.query('UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL')

  it('an import command ends once; a check may end each time it runs', async () => {
    const p = { commandId: 'c1', companyId: 'a'.repeat(24) }
    expect(await enqueueCommandEnded(tdb.db, 'x@localhost', { ...p, kind: 'import' })).toBeTypeOf('string')
    expect(await enqueueCommandEnded(tdb.db, 'x@localhost', { ...p, kind: 'report' })).toBeUndefined()
    expect(await enqueueCommandEnded(tdb.db, 'x@localhost', { ...p, kind: 'check' })).toBeTypeOf('string')
    expect(await enqueueCommandEnded(tdb.db, 'x@localhost', { ...p, kind: 'check' })).toBeTypeOf('string')
    // another company, same commandId: its own command
    expect(await enqueueCommandEnded(tdb.db, 'x@localhost', { ...p, companyId: 'b'.repeat(24), kind: 'import' })).toBeTypeOf('string')
    await clear()
  })

  it('a claimed row is leased: not due again until released; a failure backs off exponentially, capped', async () => {
    const id = (await enqueueCommandEnded(tdb.db, 'x@localhost', { commandId: 'lease', companyId: 'a'.repeat(24), kind: 'import' }))!
    const [claimed] = await claimOwed(tdb.db, 10, 60)
    expect(claimed).toMatchObject({ id, kind: 'command_ended', attempts: 1 })
    expect(await claimOwed(tdb.db, 10, 60)).toEqual([])
    expect((await row(id)).wait).toBeGreaterThan(55)

    const backoff = { baseSeconds: 2, maxSeconds: 10 }
    const waits: number[] = []
    for (let i = 0; i < 5; i++) {
      await releaseFailed(tdb.db, [id], 'boom', backoff)
      waits.push(Math.round((await row(id)).wait))
      await tdb.db.query('UPDATE outbox SET next_attempt_at = now() WHERE id = $1', [id])
      await claimOwed(tdb.db, 10, 60)
    }
    expect(waits).toEqual([2, 4, 8, 10, 10])
    expect((await row(id)).lastError).toBe('boom')

    // leased but never attempted (the connection went first): due at once, the attempt not counted
    const before = (await row(id)).attempts
    await releaseUnattempted(tdb.db, [id])
    expect(await row(id)).toMatchObject({ due: true, attempts: before - 1 })
    await claimOwed(tdb.db, 10, 60)
    await markSent(tdb.db, [id])
    expect(await row(id)).toMatchObject({ sent: true, lastError: null })
    expect(await claimOwed(tdb.db, 10, 60)).toEqual([])
  })

  it('progress goes before the command_ended of the same batch; stanzas carry a stable id', async () => {
    const ended = (await enqueueCommandEnded(tdb.db, 'x@localhost', { commandId: 'order', companyId: 'a'.repeat(24), kind: 'import' }))!
    const status = (await enqueueImportStatus(tdb.db, 'x@localhost', { reqId: 'r1', companyId: 'a'.repeat(24), commandId: 'order', seq: 3, status: 'Terminated', succeeded: 2, failed: 1, warnings: 0, total: 3 }))!
    expect(await enqueueImportStatus(tdb.db, 'x@localhost', { reqId: 'r1', companyId: 'a'.repeat(24), commandId: 'order', seq: 3, status: 'Terminated', succeeded: 2, failed: 1, warnings: 0, total: 3 })).toBeUndefined()
    const claimed = await claimOwed(tdb.db, 10, 60)
    expect(claimed.map((r) => r.id)).toEqual([status, ended])
    expect(stanzaFor(claimed[1]!).toString()).toBe(`<message type="management" id="massprov-${ended}" to="x@localhost"><command_ended commandId="order" xmlns="jabber:iq:configuration"/></message>`)
    expect(stanzaFor(claimed[0]!).toString()).toBe(`<message type="management" id="massprov-${status}" to="x@localhost"><import_status reqId="r1" seq="3" status="Terminated" failed="1" warnings="0" succeeded="2" total="3" commandId="order" xmlns="jabber:iq:configuration"/></message>`)
    expect(() => stanzaFor({ ...claimed[1]!, payload: {} })).toThrow()
    await markSent(tdb.db, claimed.map((r) => r.id))
  })

  if (kind === 'postgres') {
    it('concurrent claims (SKIP LOCKED) never hand one row to two relays', async () => {
      const ids = new Set<string>()
      for (let i = 0; i < 60; i++) ids.add((await enqueueCommandEnded(tdb.db, 'x@localhost', { commandId: `race-${i}`, companyId: 'a'.repeat(24), kind: 'import' }))!)
      const batches = await Promise.all(Array.from({ length: 8 }, () => claimOwed(tdb.db, 10, 60)))
      const claimed = batches.flat().map((r) => r.id)
      expect(new Set(claimed).size).toBe(claimed.length)
      expect(claimed.every((id) => ids.has(id))).toBe(true)
      expect(claimed.length).toBe(60)
    })
  }
})
