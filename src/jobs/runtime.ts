import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { createCompanyLocks } from '../db/company-locks.js'
import type { Db } from '../db/db.js'
import { listPendingImportIds } from '../db/imports-repository.js'
import { createHashPool, type PasswordHasher } from '../services/hash-pool.js'
import { createBullmqProducer, JOB_OPTIONS, type BullBackend } from './bullmq-queue.js'
import { createInProcessQueue } from './in-process-queue.js'
import { giveUpImport, runImport, type ImportJobDeps } from './import-job.js'
import { startImportWorker, type ImportWorker } from './import-worker.js'
import type { ImportQueue } from './queue.js'
import { startStallWatchdog } from './stall-watchdog.js'

/** Embedded: no BullMQ. Otherwise Redis when REDIS_URL is set, else BullMQ's PostgreSQL backend. */
export function selectBackend (config: Config): BullBackend | undefined {
  if (!config.DATABASE_URL) return undefined
  return config.REDIS_URL ? { kind: 'bullmq-redis', url: config.REDIS_URL } : { kind: 'bullmq-postgres', url: config.DATABASE_URL }
}

export interface ImportRuntime {
  /** What the routes enqueue on. */
  queue: ImportQueue
  /** Stops the consumer (bounded by SHUTDOWN_TIMEOUT), then the producer and the hashing threads. */
  close: () => Promise<void>
}

/**
 * The queue and, when this process consumes it, the worker. Embedded: the in-process queue, with
 * the imports left Pending by a previous run queued again now. BullMQ: a producer and, when
 * `consume`, a worker sharing the queue with every other worker process. Every mode runs the stall
 * watchdog (IMPORT_STALL_S), producers included.
 */
export async function openImportRuntime (config: Config, db: Db, logger: Logger, opts: { consume: boolean }): Promise<ImportRuntime> {
  const hasher: PasswordHasher = createHashPool(config.HASH_THREADS)
  const deps: ImportJobDeps = { db, logger, xmppDomain: config.XMPP_DOMAIN, chunkSize: config.IMPORT_CHUNK_SIZE, hasher }
  const backend = selectBackend(config)
  if (!backend) {
    const queue = createInProcessQueue((job) => runImport(deps, job.reqId), {
      concurrency: config.IMPORT_CONCURRENCY,
      logger,
      attempts: JOB_OPTIONS.attempts,
      retryDelayMs: JOB_OPTIONS.backoff.delay,
      onGiveUp: (job, attempts, err) => giveUpImport(deps, job.reqId, attempts, err),
    })
    for (const job of await listPendingImportIds(db)) await queue.enqueue(job)
    // Started after the re-queue above, so that a worker touches an import before it is judged.
    const watchdog = startStallWatchdog({ db, logger, stallSeconds: config.IMPORT_STALL_S })
    return { queue, close: async () => { await watchdog.stop(); await queue.close(); await hasher.close() } }
  }
  const queue = createBullmqProducer(backend, config.QUEUE_PREFIX, logger)
  let worker: ImportWorker | undefined
  if (opts.consume) {
    worker = startImportWorker({ backend, prefix: config.QUEUE_PREFIX, concurrency: config.IMPORT_CONCURRENCY, deps, locks: createCompanyLocks(config.DATABASE_URL!, logger), logger })
  }
  const watchdog = startStallWatchdog({ db, logger, stallSeconds: config.IMPORT_STALL_S })
  return {
    queue,
    close: async () => {
      await watchdog.stop()
      await worker?.close(config.SHUTDOWN_TIMEOUT * 1000)
      await queue.close()
      await hasher.close()
    },
  }
}
