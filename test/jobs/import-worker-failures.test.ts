import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { findCommandReport } from '../../src/db/commands-repository.js'
import { createCompanyLocks } from '../../src/db/company-locks.js'
import type { Db } from '../../src/db/db.js'
import { findImport, type ImportRow } from '../../src/db/imports-repository.js'
import { listOutbox } from '../../src/db/outbox-repository.js'
import { openBullQueue, type BullBackend } from '../../src/jobs/bullmq-queue.js'
import { startImportWorker } from '../../src/jobs/import-worker.js'
import { openImportRuntime } from '../../src/jobs/runtime.js'
import { acceptImport } from '../../src/provisioning/intake.js'
import { newId } from '../../src/util/ids.js'
import { createWorld, type World } from '../helpers/fixtures.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { report } from '../helpers/reliability.js'

// The BullMQ side of D16 in-process, against PostgreSQL and Redis: a job whose attempts are used up
// ends its import Failed; a runtime with no worker consuming ends a Pending import Failed once
// IMPORT_STALL_S has passed.

const logger = pino({ level: 'silent' })
const hasServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL)

class Boom extends Error {}

async function until (what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(!hasServices)('import failures with BullMQ on Redis and PostgreSQL', () => {
  let tdb: TestDb
  let world: World
  beforeAll(async () => {
    tdb = await openTestDb('postgres')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => {
    await tdb?.close()
  })

  const prefix = () => `mpfail${newId().slice(-8)}`
  async function accept (n: number, commandId?: string) {
    const t = newId().slice(-10)
    const body = ['__action__;loginEmail;firstName', ...Array.from({ length: n }, (_, i) => `create;wf-${i}-${t}@example.com;W${i}`)].join('\n') + '\n'
    return (await acceptImport(tdb.db, {
      companyId: world.companyA,
      operation: 'import',
      body: Buffer.from(body),
      label: null,
      noemails: true,
      nostrict: false,
      commandId,
      requester: { id: world.adminA.id, displayName: 'Admin A', jid: `${world.adminA.id}@localhost` },
      // The job under test, not the deletion safeguard of the route (MAX_DELETE_PERCENT=100 is off).
      caller: { id: world.adminA.id, rank: 1 },
      maxDeletePercent: 100,
    })).reqId
  }
  const ended = async (reqId: string) => ((await findImport(tdb.db, reqId))?.status ?? 'Pending') !== 'Pending'

  it('a job failing on each of its attempts: the import ends Failed with errorMsg, its applied chunk kept, and its command ends as a failure', async () => {
    const commandId = `cmd-${newId()}`
    const reqId = await accept(5, commandId)
    const backend: BullBackend = { kind: 'bullmq-redis', url: process.env.REDIS_URL! }
    const p = prefix()
    // The job is queued with 2 attempts before the worker starts, so its own sweep's enqueue is a duplicate.
    const producer = openBullQueue(backend, p, logger)
    await producer.queue.add('import', { reqId, companyId: world.companyA },
      { jobId: reqId, attempts: 2, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: true, removeOnFail: true } as never)
    // Every chunk after the first fails to commit; ending the import (not a chunk) still works.
    let chunks = 0
    const broken: Db = {
      ...tdb.db,
      transaction: (fn) => tdb.db.transaction(async (tx) => {
        let chunk = false
        const result = await fn({
          kind: tx.kind,
          exec: (sql) => tx.exec(sql),
          query: (sql, params) => {
            if (sql.includes('jsonb_to_recordset')) chunk = true
            return tx.query(sql, params)
          },
        })
        if (chunk && ++chunks > 1) throw new Boom('the chunk could not commit')
        return result
      }),
    }
    const worker = startImportWorker({
      backend,
      prefix: p,
      concurrency: 1,
      logger,
      sweepIntervalMs: 3_600_000,
      deps: { db: broken, logger, xmppDomain: 'localhost', chunkSize: 2 },
      locks: createCompanyLocks(tdb.url!, logger),
    })
    try {
      await until('the import to end', () => ended(reqId))
    } finally {
      await worker.close(5000)
      await producer.close()
    }
    const imp = (await findImport(tdb.db, reqId))!
    expect(imp).toMatchObject({ status: 'Failed', total: 5, processed: 5, succeeded: 2, failed: 3 })
    expect(imp.errorMsg).toMatch(/failed 2 times in a row/)
    const results = await tdb.db.query<{ error_code: number | null }>('SELECT error_code FROM import_line_results WHERE req_id = $1 ORDER BY seq', [reqId])
    expect(results.map((r) => r.error_code)).toEqual([null, null, 3198, 3198, 3198])
    expect((await findCommandReport(tdb.db, world.companyA, 'import', commandId))!).toMatchObject({ status: 'failure', report: { status: 'Failed' } })
    expect((await listOutbox(tdb.db, 'command_ended')).filter((o) => o.payload.commandId === commandId)).toHaveLength(1)
  }, 60_000)

  it('no worker consuming: the runtime\'s watchdog ends a Pending import Failed after IMPORT_STALL_S', async ({ task }) => {
    const config = loadConfig({
      DATABASE_URL: tdb.url!, REDIS_URL: process.env.REDIS_URL, JWT_SECRET: 'w'.repeat(40), SECRETS_KEY: 's'.repeat(40), IMPORT_STALL_S: '1', QUEUE_PREFIX: prefix(), HASH_THREADS: '1', LOG_LEVEL: 'silent',
    })
    const started = Date.now()
    const reqId = await accept(2)
    const runtime = await openImportRuntime(config, tdb.db, logger, { consume: false })
    let imp: ImportRow | undefined
    try {
      await until('the watchdog', async () => { imp = await findImport(tdb.db, reqId); return imp?.status !== 'Pending' }, 15_000)
    } finally {
      await runtime.close()
    }
    const afterMs = Date.now() - started
    expect(imp).toMatchObject({ status: 'Failed', succeeded: 0, failed: 2, errorMsg: expect.stringMatching(/no worker made progress on this import for 1 s/) })
    expect(afterMs).toBeGreaterThanOrEqual(1000)
    report(task, { stallSeconds: 1, endedFailedAfterMs: afterMs })
  }, 30_000)
})
