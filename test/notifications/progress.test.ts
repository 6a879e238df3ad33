import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advanceProgress, listProgressDue } from '../../src/db/import-progress-repository.js'
import { listOutbox } from '../../src/db/outbox-repository.js'
import { emitProgress } from '../../src/notifications/progress.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'

// Which imports owe an import_status, and that each step is owed once.
describe.each(dbKinds())('import progress on %s', (kind) => {
  let tdb: TestDb
  let world: World
  const logger = pino({ level: 'silent' })

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  let n = 0
  async function addImport (f: { operation?: string, status?: string, commandId?: string | null, endedAgo?: string }): Promise<string> {
    const reqId = (++n).toString(16).padStart(64, '0')
    await tdb.db.query(
      `INSERT INTO imports (req_id, company_id, operation, mode, status, command_id, requester_id, total, options, end_time)
       VALUES ($1, $2, $3, 'useranddevice', $4, $5, $6, 10, '{"requesterJid": "admin@localhost"}', CASE WHEN $7::text IS NULL THEN NULL ELSE now() - $7::interval END)`,
      [reqId, world.companyA, f.operation ?? 'synchronize', f.status ?? 'Pending', f.commandId === undefined ? `cmd-${n}` : f.commandId, world.adminA.id, f.endedAgo ?? null])
    return reqId
  }
  const owedFor = async (reqId: string) => (await listOutbox(tdb.db, 'import_status')).filter((r) => r.payload.reqId === reqId).map((r) => r.payload)

  it('running and just-ended synchronizes with a commandId are announced; others are not', async () => {
    const running = await addImport({})
    const justEnded = await addImport({ status: 'Terminated', endedAgo: '1 second' })
    const longEnded = await addImport({ status: 'Terminated', endedAgo: '2 hours' })
    const noCommand = await addImport({ commandId: null })
    const notSync = await addImport({ operation: 'import' })
    expect((await listProgressDue(tdb.db, 10)).map((d) => d.reqId).sort()).toEqual([running, justEnded].sort())

    expect(await emitProgress(tdb.db, logger, 10)).toBe(2)
    expect(await owedFor(running)).toEqual([expect.objectContaining({ seq: 1, status: 'Pending', total: 10, succeeded: 0, commandId: 'cmd-1' })])
    expect(await owedFor(justEnded)).toEqual([expect.objectContaining({ seq: 1, status: 'Terminated' })])
    for (const r of [longEnded, noCommand, notSync]) expect(await owedFor(r)).toEqual([])

    // nothing moved: nothing owed; moved but within the interval: nothing; past it: seq 2
    expect(await emitProgress(tdb.db, logger, 10)).toBe(0)
    await tdb.db.query('UPDATE imports SET processed = 4, succeeded = 3, failed = 1 WHERE req_id = $1', [running])
    expect(await emitProgress(tdb.db, logger, 10)).toBe(0)
    expect(await emitProgress(tdb.db, logger, 0)).toBe(1)
    expect((await owedFor(running)).at(-1)).toMatchObject({ seq: 2, status: 'Pending', succeeded: 3, failed: 1 })

    // the end is announced at once, whatever the interval, and only once
    await tdb.db.query("UPDATE imports SET status = 'Terminated', processed = 10, succeeded = 9, end_time = now() WHERE req_id = $1", [running])
    expect(await emitProgress(tdb.db, logger, 3600)).toBe(1)
    expect((await owedFor(running)).at(-1)).toMatchObject({ seq: 3, status: 'Terminated', succeeded: 9, failed: 1, total: 10 })
    expect(await emitProgress(tdb.db, logger, 0)).toBe(0)
  })

  it('two relays with the same view: only one takes each step', async () => {
    const reqId = await addImport({})
    const [due] = (await listProgressDue(tdb.db, 10)).filter((d) => d.reqId === reqId)
    expect(await advanceProgress(tdb.db, due!)).toBe(1)
    expect(await advanceProgress(tdb.db, due!)).toBeUndefined()
  })
})
