import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { findImport } from '../../src/db/imports-repository.js'
import type { BullBackend } from '../../src/jobs/bullmq-queue.js'
import { openImportRuntime } from '../../src/jobs/runtime.js'
import { openTestDb, requirePostgresInCi } from '../helpers/databases.js'
import { createWorld } from '../helpers/fixtures.js'
import { within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import { enqueueSoon, pollImport, producer, redisUrlOrFail, startWorker, stopAll, storeCreateFile, uniquePrefix, waitForBanner, type WorkerSetup } from './worker-harness.js'

// D16 with real processes: the only worker is killed mid-import and stays away longer than
// IMPORT_STALL_S. An API process (a producer-only runtime, here in the test process) ends the import
// Failed; nothing applied is lost, and a worker started afterwards does not resume it.

const LINES = 600
const STALL_S = 2

requirePostgresInCi()
const redisUrl = redisUrlOrFail()
const backend: BullBackend['kind'] | undefined = process.env.DATABASE_URL ? (redisUrl ? 'bullmq-redis' : 'bullmq-postgres') : undefined

describe.runIf(backend)('the only worker gone past IMPORT_STALL_S', () => {
  const procs: Proc[] = []
  afterAll(async () => { await stopAll(procs) })

  it('ends Failed by the watchdog; applied lines stay applied; a returning worker applies nothing more', async ({ task }) => {
    const tdb = await openTestDb('postgres')
    const setup: WorkerSetup = { databaseUrl: tdb.url!, backend: backend!, redisUrl, prefix: uniquePrefix() }
    const queue = producer(setup)
    const logger = pino({ level: 'silent' })
    try {
      const world = await createWorld(tdb.db)
      const worker = startWorker(setup, procs)
      await waitForBanner(worker, 30_000)
      const file = await storeCreateFile(tdb.db, world.companyA, world.adminA.id, LINES)
      await enqueueSoon(queue, { reqId: file.reqId, companyId: world.companyA })
      const midway = await pollImport(tdb.db, file.reqId, 60_000, (i) => i.status !== 'Pending' || i.processed >= 100)
      worker.child.kill('SIGKILL')
      await within(10_000, 'kill -9 exit', worker.exited)
      const killedAt = Date.now()
      const atKill = (await findImport(tdb.db, file.reqId))!
      expect(midway.status).toBe('Pending')
      expect(atKill.processed).toBeLessThan(LINES)

      const config = loadConfig({
        DATABASE_URL: tdb.url!, ...(redisUrl ? { REDIS_URL: redisUrl } : {}), JWT_SECRET: 'e'.repeat(40), SECRETS_KEY: 's'.repeat(40), IMPORT_STALL_S: String(STALL_S), QUEUE_PREFIX: setup.prefix, HASH_THREADS: '1',
      })
      const api = await openImportRuntime(config, tdb.db, logger, { consume: false })
      let failed
      try {
        failed = await pollImport(tdb.db, file.reqId, 20_000, (i) => i.status !== 'Pending')
      } finally {
        await api.close()
      }
      const failedAfterMs = Date.now() - killedAt
      expect(failed).toMatchObject({ status: 'Failed', processed: LINES, succeeded: atKill.processed, failed: LINES - atKill.processed })
      expect(failed.errorMsg).toMatch(new RegExp(`no worker made progress on this import for ${STALL_S} s`))
      expect(failedAfterMs).toBeGreaterThanOrEqual(STALL_S * 1000 - 500)
      const live = async () => Number((await tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE login_email = ANY($1::text[]) AND deleted_at IS NULL', [file.emails]))[0]!.n)
      expect(await live()).toBe(atKill.processed)

      // The worker comes back: the dead job is taken up again (stalled check) and does nothing.
      const back = startWorker(setup, procs)
      await waitForBanner(back, 30_000)
      await within(40_000, 'the queue to drain', queue.drained())
      expect(await live()).toBe(atKill.processed)
      expect((await findImport(tdb.db, file.reqId))!).toMatchObject({ status: 'Failed', succeeded: atKill.processed, failed: LINES - atKill.processed })
      const unapplied = await tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM import_line_results WHERE req_id = $1 AND error_code = 3198', [file.reqId])
      expect(Number(unapplied[0]!.n)).toBe(LINES - atKill.processed)
      report(task, { stallSeconds: STALL_S, processedAtKill: atKill.processed, failedAfterMs, appliedKept: await live(), resumedLines: 0 })
    } finally {
      await stopAll(procs.splice(0))
      await queue.close()
      await tdb.close()
    }
  }, 150_000)
})
