import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ImportQueue } from '../../src/jobs/queue.js'
import { openTestDb, requirePostgresInCi, type TestDb } from '../helpers/databases.js'
import { createWorld } from '../helpers/fixtures.js'
import type { Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import {
  alive, enqueueSoon, expectAppliedOnce, pollImport, producer, redisUrlOrFail, startWorker, stopAll, storeCreateFile, sumApplied, uniquePrefix, waitForBanner, type WorkerSetup,
} from './worker-harness.js'

// The outages of issue 4 on real worker processes: Redis restarted (empty) in the middle of an
// import, and the worker's PostgreSQL connections terminated in the middle of one.

const LINES = 600
const BUDGET_MS = 100_000
// A throwaway Redis, so that the shared one on 6379 is never disturbed.
const SPARE_REDIS_PORT = 6390

requirePostgresInCi()
const haveServices = Boolean(process.env.DATABASE_URL && redisUrlOrFail())

function spareRedis (action: 'start' | 'stop'): void {
  if (action === 'start') {
    execFileSync('redis-server', ['--port', String(SPARE_REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
      '--maxmemory-policy', 'noeviction', '--pidfile', `/tmp/massprov-test-redis-${SPARE_REDIS_PORT}.pid`])
  } else {
    try { execFileSync('redis-cli', ['-p', String(SPARE_REDIS_PORT), 'shutdown', 'nosave'], { stdio: 'ignore' }) } catch { /* already down */ }
  }
}

async function untilRedis (up: boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    let answers = false
    try { answers = execFileSync('redis-cli', ['-p', String(SPARE_REDIS_PORT), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG' } catch { answers = false }
    if (answers === up) return
    if (Date.now() > deadline) throw new Error(`spare Redis still ${up ? 'down' : 'up'} after ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.runIf(haveServices)('import outages on real workers', () => {
  const procs: Proc[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    await stopAll(procs.splice(0))
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
  }, 30_000)
  afterAll(() => spareRedis('stop'))

  async function fresh (): Promise<TestDb> {
    const tdb = await openTestDb('postgres')
    cleanups.push(() => tdb.close())
    return tdb
  }
  function queueFor (setup: WorkerSetup): ImportQueue {
    const q = producer(setup)
    cleanups.push(() => q.close())
    return q
  }

  it('Redis restarted empty mid-import: that import and one enqueued after the restart both complete', async ({ task }) => {
    const started = Date.now()
    const left = () => Math.max(BUDGET_MS - (Date.now() - started), 1)
    spareRedis('stop')
    await untilRedis(false, 10_000)
    spareRedis('start')
    await untilRedis(true, 10_000)
    const tdb = await fresh()
    const world = await createWorld(tdb.db)
    const setup: WorkerSetup = { databaseUrl: tdb.url!, backend: 'bullmq-redis', redisUrl: `redis://127.0.0.1:${SPARE_REDIS_PORT}`, prefix: uniquePrefix() }
    const queue = queueFor(setup)
    const worker = startWorker(setup, procs)
    await waitForBanner(worker, left())
    const first = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, LINES)
    await enqueueSoon(queue, { reqId: first.reqId, companyId: world.companyA })
    const midway = await pollImport(tdb.db, first.reqId, left(), (i) => i.status !== 'Pending' || i.processed > 0)

    const stopped = Date.now()
    spareRedis('stop')
    await untilRedis(false, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    spareRedis('start')
    await untilRedis(true, 10_000)
    const restarted = Date.now()

    const second = await storeCreateFile(tdb.db, world.companyB, world.adminB.id, LINES)
    await enqueueSoon(queue, { reqId: second.reqId, companyId: world.companyB }, left())
    for (const f of [first, second]) await pollImport(tdb.db, f.reqId, left(), (i) => i.status !== 'Pending')
    const recoveryMs = Date.now() - restarted
    const applied = []
    for (const f of [first, second]) applied.push(await expectAppliedOnce(tdb.db, f.reqId, f.emails))
    expect(alive(worker)).toBe(true)
    report(task, { imports: applied.length, processedAtStop: midway.processed, redisDownMs: restarted - stopped, recoveryMs, ...sumApplied(applied) })
  }, BUDGET_MS + 15_000)

  for (const backend of ['bullmq-postgres', 'bullmq-redis'] as const) {
    it(`PostgreSQL connections of the worker terminated mid-import (${backend}): the import completes, lines applied once`, async ({ task }) => {
      const started = Date.now()
      const left = () => Math.max(BUDGET_MS - (Date.now() - started), 1)
      const tdb = await fresh()
      const world = await createWorld(tdb.db)
      const appName = `mpkill_${randomBytes(4).toString('hex')}`
      const url = new URL(tdb.url!)
      url.searchParams.set('application_name', appName)
      const setup: WorkerSetup = { databaseUrl: url.toString(), backend, redisUrl: process.env.REDIS_URL, prefix: uniquePrefix() }
      const queue = queueFor({ ...setup, databaseUrl: tdb.url! })
      let worker = startWorker(setup, procs)
      await waitForBanner(worker, left())
      const file = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, LINES)
      await enqueueSoon(queue, { reqId: file.reqId, companyId: world.companyA })
      await pollImport(tdb.db, file.reqId, left(), (i) => i.status !== 'Pending' || i.processed > 0)

      const terminated = Date.now()
      const killed = await tdb.db.query<{ n: number }>(
        'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName])
      expect(killed[0]!.n).toBeGreaterThan(0)

      // "Survives or is restarted": a supervisor would start it again if it died.
      let restarts = 0
      const first = worker
      const imp = await pollImport(tdb.db, file.reqId, left(), (i) => {
        if (!alive(worker) && restarts === 0) {
          restarts++
          worker = startWorker(setup, procs)
        }
        return i.status !== 'Pending'
      })
      const recoveryMs = Date.now() - terminated
      expect(imp.status).toBe('Terminated')
      const applied = await expectAppliedOnce(tdb.db, file.reqId, file.emails)
      const died = restarts > 0 ? { code: first.child.exitCode, signal: first.child.signalCode, out: (first.out.stdout + first.out.stderr).slice(-3000) } : undefined
      expect(died).toBeUndefined()
      report(task, { backendsTerminated: killed[0]!.n, recoveryMs, workerRestarts: restarts, ...applied })
    }, BUDGET_MS + 15_000)
  }
})
