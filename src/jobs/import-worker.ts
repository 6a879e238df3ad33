import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import type { Logger } from 'pino'
import { companyLockHeld, type CompanyLocks } from '../db/company-locks.js'
import { loggableError } from '../db/db.js'
import { earlierPendingImport, findImport, listPendingImportIds } from '../db/imports-repository.js'
import { enqueueImport, ImportJobSchema, openBullQueue, openBullWorker, type BullBackend } from './bullmq-queue.js'
import { giveUpImport, runImport, type ImportJobDeps } from './import-job.js'
import type { ImportJob } from './queue.js'

/** How long a job waits when its company is busy with another import. */
const BUSY_RETRY_MS = 2000
/** How often Pending imports without a job (an enqueue that failed, Redis restarted empty) are enqueued again. */
export const SWEEP_INTERVAL_MS = 15_000

export interface ImportWorkerOptions {
  backend: BullBackend
  prefix: string
  concurrency: number
  deps: ImportJobDeps
  locks: CompanyLocks
  logger: Logger
  sweepIntervalMs?: number
}

export interface ImportWorker {
  /** Stops taking jobs, stops running imports at their next chunk boundary, waits up to `deadlineMs`. */
  close: (deadlineMs: number) => Promise<void>
}

class CompanyLockLost extends Error {}

/**
 * Consumes the import queue. PostgreSQL decides everything: a job for an import that is no longer
 * Pending does nothing; a company runs one import at a time (a session advisory lock per company,
 * checked again in each chunk's transaction), in the order its imports were accepted; a job whose
 * company is busy goes back to the delayed set without spending an attempt.
 */
export function startImportWorker (opts: ImportWorkerOptions): ImportWorker {
  const { logger, deps } = opts
  const shutdown = new AbortController()
  const producer = openBullQueue(opts.backend, opts.prefix, logger)

  async function later (job: Job<ImportJob>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token)
    throw new DelayedError()
  }

  async function process (job: Job<ImportJob>, token?: string): Promise<void> {
    const parsed = ImportJobSchema.safeParse(job.data)
    if (!parsed.success) throw new UnrecoverableError('invalid import job payload')
    const { reqId, companyId } = parsed.data
    if ((await findImport(deps.db, reqId))?.status !== 'Pending') return
    const lease = await opts.locks.tryAcquire(companyId)
    if (!lease) return later(job, token, BUSY_RETRY_MS)
    try {
      const earlier = await earlierPendingImport(deps.db, companyId, reqId)
      if (earlier) {
        await enqueueImport(producer.queue, { reqId: earlier, companyId })
          .catch((err: unknown) => logger.warn({ err, reqId: earlier }, 'could not enqueue the earlier import; the sweep will'))
        return await later(job, token, BUSY_RETRY_MS)
      }
      await runImport(deps, reqId, {
        signal: AbortSignal.any([lease.lost, shutdown.signal]),
        guard: async (tx) => {
          if (!await companyLockHeld(tx, companyId, lease.pid)) throw new CompanyLockLost('the company lock was lost')
        },
      })
    } catch (err) {
      // Stopped at a chunk boundary by the shutdown: straight back to the queue for another worker.
      if (shutdown.signal.aborted && !(err instanceof DelayedError)) return await later(job, token, 0)
      // attemptsMade counts the failed attempts before this one (a delay spends none).
      if (!(err instanceof DelayedError) && job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await giveUpImport(deps, reqId, job.attemptsMade + 1, err)
          .catch((endErr: unknown) => logger.error({ err: endErr, reqId }, 'could not end the import as Failed; it stays Pending and the sweep queues it again'))
      }
      throw err
    } finally {
      await lease.release()
    }
  }

  const { worker, close } = openBullWorker(opts.backend, opts.prefix, process, opts.concurrency)
  let warned = false
  worker.on('error', (err) => {
    if (!warned) logger.warn({ err: (err as Error).message }, 'import worker: queue unreachable, retrying')
    warned = true
  })
  worker.on('failed', (job, err) => {
    const j = job as Job<ImportJob> | undefined
    logger.error({ err: loggableError(err), reqId: j?.data?.reqId, attempt: j?.attemptsMade, attempts: j?.opts.attempts }, 'import job attempt failed; retried until its attempts are used up, then the import ends Failed')
  })

  async function sweep (): Promise<void> {
    try {
      for (const job of await listPendingImportIds(deps.db)) await enqueueImport(producer.queue, job)
      warned = false
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'import sweep failed; next try in a moment')
    }
  }
  const sweeping = sweep()
  // sweep() logs its own failures and never rejects.
  const timer = setInterval(() => { sweep().catch(() => {}) }, opts.sweepIntervalMs ?? SWEEP_INTERVAL_MS)
  timer.unref()

  return {
    async close (deadlineMs) {
      clearInterval(timer)
      shutdown.abort(new Error('shutting down'))
      await sweeping
      let timeout: NodeJS.Timeout | undefined
      const graceful = close().then(() => true)
      const expired = new Promise<false>((resolve) => { timeout = setTimeout(() => resolve(false), deadlineMs) })
      const done = await Promise.race([graceful, expired])
      clearTimeout(timeout)
      // worker.close() has no deadline of its own; past ours the jobs are left to the stalled check.
      if (!done) {
        logger.warn({ deadlineMs }, 'imports still running at the shutdown deadline; another worker resumes them')
        await close(true).catch((err: unknown) => logger.warn({ err }, 'forced close of the import worker failed'))
      }
      await producer.close()
    },
  }
}
