import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { findImport } from '../../src/db/imports-repository.js'
import type { BullBackend } from '../../src/jobs/bullmq-queue.js'
import type { ImportQueue } from '../../src/jobs/queue.js'
import { openTestDb, requirePostgresInCi, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'
import { within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import {
  enqueueSoon, expectAppliedOnce, pollImport, producer, redisUrlOrFail, startWorker, stopAll, storeCreateFile, sumApplied, uniquePrefix, waitForBanner, type WorkerSetup,
} from './worker-harness.js'

// kill -9 of a worker process half-way through an import, then another worker: every line applied
// once, on BullMQ over Redis and over PostgreSQL. Also: SIGTERM stops at a chunk boundary within its
// deadline, and one company's imports never overlap while two companies' do.

const LINES = 600
const BUDGET_MS = 90_000

requirePostgresInCi()
const redisUrl = redisUrlOrFail()
const backends: Array<BullBackend['kind']> = process.env.DATABASE_URL ? ['bullmq-postgres', ...(redisUrl ? ['bullmq-redis' as const] : [])] : []

describe.runIf(backends.length > 0).each(backends)('import workers on %s', (backend) => {
  let tdb: TestDb
  let world: World
  let setup: WorkerSetup
  let queue: ImportQueue
  const procs: Proc[] = []

  beforeEach(async () => {
    tdb = await openTestDb('postgres')
    world = await createWorld(tdb.db)
    setup = { databaseUrl: tdb.url!, backend, redisUrl, prefix: uniquePrefix() }
    queue = producer(setup)
  })
  afterEach(async () => {
    await stopAll(procs.splice(0))
    await queue?.close()
    await tdb?.close()
  }, 30_000)
  afterAll(async () => { await stopAll(procs) })

  /** One worker, applying a LINES-line create file of company A; `left` is the rest of the time budget. */
  async function startedImport () {
    const started = Date.now()
    const left = () => Math.max(BUDGET_MS - (Date.now() - started), 1)
    const first = startWorker(setup, procs)
    await waitForBanner(first, left())
    const file = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, LINES)
    await enqueueSoon(queue, { reqId: file.reqId, companyId: world.companyA })
    return { first, file, left }
  }

  it(`kill -9 mid-import, then a new worker: ${LINES} lines applied exactly once`, async ({ task }) => {
    const { first, file, left } = await startedImport()

    const midway = await pollImport(tdb.db, file.reqId, left(), (i) => i.status !== 'Pending' || i.processed >= LINES / 2)
    first.child.kill('SIGKILL')
    expect((await within(10_000, 'kill -9 exit', first.exited)).signal).toBe('SIGKILL')
    expect(midway.status).toBe('Pending')
    expect(midway.processed).toBeLessThan(LINES)

    const killedAt = Date.now()
    const second = startWorker(setup, procs)
    await waitForBanner(second, left())
    await pollImport(tdb.db, file.reqId, left(), (i) => i.status !== 'Pending')
    const recoveryMs = Date.now() - killedAt
    // The dead worker's job is taken over by the stalled check (lockDuration 10 s + stalledInterval 5 s).
    expect(recoveryMs).toBeLessThan(30_000 + 10_000)
    report(task, { processedAtKill: midway.processed, recoveryMs, ...await expectAppliedOnce(tdb.db, file.reqId, file.emails) })
  }, BUDGET_MS + 10_000)

  it('SIGTERM: the worker stops at a chunk boundary within its deadline and exits 0; another one finishes', async ({ task }) => {
    const { first, file, left } = await startedImport()
    await pollImport(tdb.db, file.reqId, left(), (i) => i.status !== 'Pending' || i.processed > 0)
    const signalled = Date.now()
    first.child.kill('SIGTERM')
    const exitCode = (await within(20_000, 'SIGTERM exit', first.exited)).code
    expect(exitCode).toBe(0)
    const exitMs = Date.now() - signalled
    // SHUTDOWN_TIMEOUT is 5 s in these workers.
    expect(exitMs).toBeLessThan(12_000)
    const processedAtExit = (await findImport(tdb.db, file.reqId))!.processed

    const second = startWorker(setup, procs)
    await waitForBanner(second, left())
    await pollImport(tdb.db, file.reqId, left(), (i) => i.status !== 'Pending')
    report(task, { exitCode: exitCode!, exitMs, processedAtExit, ...await expectAppliedOnce(tdb.db, file.reqId, file.emails) })
  }, BUDGET_MS + 10_000)

  it('two workers: one company\'s imports one after the other, another company\'s alongside', async ({ task }) => {
    const started = Date.now()
    const left = () => Math.max(BUDGET_MS - (Date.now() - started), 1)
    const workers = [startWorker(setup, procs), startWorker(setup, procs)]
    for (const w of workers) await waitForBanner(w, left())
    const a1 = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, 300)
    const a2 = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, 300)
    const b1 = await storeCreateFile(tdb.db, world.companyB, world.adminB.id, 300)
    for (const [f, companyId] of [[a1, world.companyA], [a2, world.companyA], [b1, world.companyB]] as const) {
      await enqueueSoon(queue, { reqId: f.reqId, companyId })
    }
    for (const f of [a1, a2, b1]) await pollImport(tdb.db, f.reqId, left(), (i) => i.status !== 'Pending')
    const applied = []
    for (const f of [a1, a2, b1]) applied.push(await expectAppliedOnce(tdb.db, f.reqId, f.emails))

    const spans = await tdb.db.query<{ reqId: string, first: Date, last: Date }>(
      'SELECT req_id AS "reqId", min(applied_at) AS first, max(applied_at) AS last FROM import_line_results WHERE req_id = ANY($1::text[]) GROUP BY req_id',
      [[a1.reqId, a2.reqId, b1.reqId]])
    const span = (reqId: string) => spans.find((s) => s.reqId === reqId)!
    // Accepted first, applied first, no overlap within company A.
    const companyGapMs = span(a2.reqId).first.getTime() - span(a1.reqId).last.getTime()
    expect(companyGapMs).toBeGreaterThanOrEqual(0)
    report(task, { imports: applied.length, companyGapMs, ...sumApplied(applied) })
  }, BUDGET_MS + 10_000)
})
