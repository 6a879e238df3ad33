import fastq from 'fastq'
import type { Logger } from 'pino'
import type { ImportJob, ImportQueue } from './queue.js'

/**
 * The embedded mode's queue: fastq over the same import rows. Imports of one company run one at a
 * time (chained), different companies in parallel up to `concurrency`. Nothing here is durable:
 * unfinished imports are re-queued from the database at start-up.
 */
export function createInProcessQueue (run: (job: ImportJob) => Promise<void>, opts: { concurrency: number, logger: Logger }): ImportQueue {
  const known = new Set<string>()
  const chains = new Map<string, Promise<void>>()
  const worker = fastq.promise(async (job: ImportJob) => {
    try {
      await run(job)
    } catch (err) {
      opts.logger.error({ err, reqId: job.reqId }, 'import job failed; it stays Pending and resumes at the next start')
    } finally {
      known.delete(job.reqId)
    }
  }, opts.concurrency)
  let closed = false

  return {
    kind: 'in-process',
    async enqueue (job) {
      if (closed || known.has(job.reqId)) return
      known.add(job.reqId)
      const previous = chains.get(job.companyId) ?? Promise.resolve()
      const next = previous.then(() => worker.push(job))
      chains.set(job.companyId, next)
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
