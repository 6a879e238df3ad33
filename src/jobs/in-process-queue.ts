import fastq from 'fastq'
import type { Logger } from 'pino'
import { loggableError } from '../db/db.js'
import type { ImportJob, ImportQueue } from './queue.js'

export interface InProcessQueueOptions {
  concurrency: number
  logger: Logger
  /** Runs of one job before it is given up (as BullMQ's attempts). */
  attempts?: number
  retryDelayMs?: number
  /** Called once a job failed on every attempt. */
  onGiveUp?: (job: ImportJob, attempts: number, err: unknown) => Promise<void>
}

/**
 * The embedded mode's queue: fastq over the same import rows. Imports of one company run one at a
 * time (chained), different companies in parallel up to `concurrency`. A failed run is retried
 * `attempts` times, then given up. Nothing here is durable: unfinished imports are re-queued from
 * the database at start-up.
 */
export function createInProcessQueue (run: (job: ImportJob) => Promise<void>, opts: InProcessQueueOptions): ImportQueue {
  const known = new Set<string>()
  const chains = new Map<string, Promise<void>>()
  const attempts = opts.attempts ?? 1
  let closed = false
  const worker = fastq.promise(async (job: ImportJob) => {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await run(job)
          return
        } catch (err) {
          opts.logger.error({ err: loggableError(err), reqId: job.reqId, attempt, attempts }, 'import job attempt failed')
          if (attempt >= attempts) {
            await opts.onGiveUp?.(job, attempt, err)
            return
          }
        }
        await new Promise((resolve) => setTimeout(resolve, opts.retryDelayMs ?? 2000))
        // Closed meanwhile: left Pending for the next start.
        if (closed) return
      }
    } catch (err) {
      opts.logger.error({ err, reqId: job.reqId }, 'import job could not be given up; it stays Pending and resumes at the next start')
    } finally {
      known.delete(job.reqId)
    }
  }, opts.concurrency)

  return {
    kind: 'in-process',
    async enqueue (job) {
      if (closed || known.has(job.reqId)) return
      known.add(job.reqId)
      const previous = chains.get(job.companyId) ?? Promise.resolve()
      const next = previous.then(() => worker.push(job))
      chains.set(job.companyId, next)
      // The job's own failures are caught and logged in the worker above; this only keeps the chain's bookkeeping from an unhandled rejection.
      next.finally(() => { if (chains.get(job.companyId) === next) chains.delete(job.companyId) }).catch(() => {})
    },
    async drained () {
      while (chains.size > 0) await Promise.allSettled([...chains.values()])
    },
    async close () {
      closed = true
      worker.kill()
    },
  }
}
