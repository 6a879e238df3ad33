import { afterAll, describe, expect, it } from 'vitest'
import { findImport } from '../../src/db/imports-repository.js'
import type { BullBackend } from '../../src/jobs/bullmq-queue.js'
import { cancelImport } from '../../src/provisioning/import-end.js'
import { openTestDb, requirePostgresInCi } from '../helpers/databases.js'
import { createWorld } from '../helpers/fixtures.js'
import { within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import { enqueueSoon, pollImport, producer, redisUrlOrFail, startWorker, stopAll, storeCreateFile, uniquePrefix, waitForBanner, type WorkerSetup } from './worker-harness.js'

// Issue 13, "a worker killed during a cancel": the cancel and a kill -9 of the only worker arrive
// together, mid-import. The cancel waits for the chunk in flight (its row lock), the killed worker's
// transaction rolls back, and the import ends Cancelled with every committed line kept and reported;
// a worker started afterwards applies nothing.

const LINES = 600

requirePostgresInCi()
const redisUrl = redisUrlOrFail()
const backend: BullBackend['kind'] | undefined = process.env.DATABASE_URL ? (redisUrl ? 'bullmq-redis' : 'bullmq-postgres') : undefined

describe.runIf(backend)('a worker killed during a cancel', () => {
  const procs: Proc[] = []
  afterAll(async () => { await stopAll(procs) })

  it('ends Cancelled: the lines committed before stay applied, the rest 3197, and a returning worker applies nothing', async ({ task }) => {
    const tdb = await openTestDb('postgres')
    const setup: WorkerSetup = { databaseUrl: tdb.url!, backend: backend!, redisUrl, prefix: uniquePrefix() }
    const queue = producer(setup)
    try {
      const world = await createWorld(tdb.db)
      const worker = startWorker(setup, procs)
      await waitForBanner(worker, 30_000)
      const file = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, LINES)
      await enqueueSoon(queue, { reqId: file.reqId, companyId: world.companyA })
      await pollImport(tdb.db, file.reqId, 60_000, (i) => i.status !== 'Pending' || i.processed >= 100)

      const cancelling = cancelImport(tdb.db, file.reqId, 'the test')
      worker.child.kill('SIGKILL')
      await within(10_000, 'kill -9 exit', worker.exited)
      const cancelled = await within(30_000, 'the cancel', cancelling)
      expect(cancelled.ended).toBe(true)
      const ended = (await findImport(tdb.db, file.reqId))!
      expect(ended.status).toBe('Cancelled')
      expect(ended.processed).toBe(LINES)
      expect(ended.succeeded + ended.failed).toBe(LINES)
      expect(ended.succeeded).toBeGreaterThanOrEqual(100)
      expect(ended.succeeded).toBeLessThan(LINES)
      const live = async () => Number((await tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE login_email = ANY($1::text[]) AND deleted_at IS NULL', [file.emails]))[0]!.n)
      expect(await live()).toBe(ended.succeeded)
      const cancelledLines = await tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM import_line_results WHERE req_id = $1 AND error_code = 3197', [file.reqId])
      expect(Number(cancelledLines[0]!.n)).toBe(ended.failed)

      const back = startWorker(setup, procs)
      await waitForBanner(back, 30_000)
      await within(40_000, 'the queue to drain', queue.drained())
      expect(await live()).toBe(ended.succeeded)
      expect((await findImport(tdb.db, file.reqId))!).toMatchObject({ status: 'Cancelled', succeeded: ended.succeeded, failed: ended.failed })
      report(task, { appliedBeforeCancel: ended.succeeded, cancelledLines: ended.failed, resumedLines: 0 })
    } finally {
      await stopAll(procs.splice(0))
      await queue.close()
      await tdb.close()
    }
  }, 150_000)
})
