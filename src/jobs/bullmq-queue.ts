import { Queue, Worker, createPostgresBackend, withBackend, type Processor } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { ImportJob, ImportQueue } from './queue.js'

export const IMPORT_QUEUE = 'imports'

const OnPostgres = withBackend(createPostgresBackend)

/** Where BullMQ keeps its jobs: Redis with REDIS_URL, else its PostgreSQL backend (schema `bullmq`). */
export type BullBackend = { kind: 'bullmq-redis', url: string } | { kind: 'bullmq-postgres', url: string }

export const ImportJobSchema = z.object({ reqId: z.string().regex(/^[^:]{1,128}$/), companyId: z.string().min(1).max(64) })

/**
 * Jobs carry only {reqId, companyId}; PostgreSQL holds the import. jobId = reqId (hex, never `:`),
 * so a second enqueue of a waiting or running import adds nothing. Jobs are removed when they end so
 * that the sweep can enqueue again an import a job gave up on: the "done" flag is the import's
 * status, never the job's.
 */
export const JOB_OPTIONS = { attempts: 10, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: true, removeOnFail: true } as const

/**
 * A killed worker's job is seen stalled after at most lockDuration + stalledInterval (15 s) and
 * taken by another worker: within the 30 s of the issue. The lock is renewed every lockDuration / 2
 * while the job runs, so a long import keeps it; maxStalledCount is high because a stall here means
 * a crashed process, never a poison job (those fail on attempts instead).
 */
export const STALL_SETTINGS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 1000 } as const

/** What this code uses of a BullMQ Queue, whichever backend holds it. */
export interface BullQueue {
  add: (name: string, data: ImportJob, opts: { jobId: string } & typeof JOB_OPTIONS) => Promise<unknown>
  getJobCounts: (...types: Array<'wait' | 'active' | 'delayed' | 'prioritized' | 'waiting-children'>) => Promise<Record<string, number>>
  close: () => Promise<void>
  on: (event: 'error', fn: (err: Error) => void) => unknown
}

/**
 * A producer's queue. On Redis its connection has no offline queue, so an enqueue fails at once
 * while Redis is down; the import is already stored and the workers' sweep enqueues it later.
 */
export function openBullQueue (backend: BullBackend, prefix: string, logger: Logger): { queue: BullQueue, close: () => Promise<void> } {
  let queue: BullQueue
  let redis: Redis | undefined
  if (backend.kind === 'bullmq-redis') {
    redis = new Redis(backend.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
    // Connection errors reach the Queue's 'error' listener below, which logs them; this one only keeps ioredis from throwing.
    redis.on('error', () => {})
    queue = new Queue(IMPORT_QUEUE, { connection: redis, prefix }) as unknown as BullQueue
  } else {
    queue = new OnPostgres.Queue(IMPORT_QUEUE, { connection: { connectionString: backend.url, migrate: true }, prefix }) as unknown as BullQueue
  }
  let warned = false
  queue.on('error', (err) => {
    if (!warned) logger.warn({ err: err.message }, 'import queue unreachable')
    warned = true
  })
  return {
    queue,
    close: async () => {
      // Closing a queue whose connection is gone fails; nothing is left to release but the socket below.
      await queue.close().catch(() => {})
      redis?.disconnect()
    },
  }
}

export function enqueueImport (queue: BullQueue, job: ImportJob): Promise<unknown> {
  return queue.add('import', { reqId: job.reqId, companyId: job.companyId }, { jobId: job.reqId, ...JOB_OPTIONS })
}

/** The producer side of ImportQueue over BullMQ (the API process). */
export function createBullmqProducer (backend: BullBackend, prefix: string, logger: Logger): ImportQueue {
  const { queue, close } = openBullQueue(backend, prefix, logger)
  return {
    kind: backend.kind,
    async enqueue (job) { await enqueueImport(queue, job) },
    async drained () {
      for (;;) {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized')
        if (Object.values(counts).every((n) => n === 0)) return
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    },
    close,
  }
}

export interface BullWorker {
  close: (force?: boolean) => Promise<void>
  on: (event: 'error' | 'failed', fn: (...args: unknown[]) => void) => unknown
}

/** A consumer. On Redis its connection retries every command forever (maxRetriesPerRequest: null), as BullMQ requires. */
export function openBullWorker (backend: BullBackend, prefix: string, processor: Processor<ImportJob>, concurrency: number): { worker: BullWorker, close: (force?: boolean) => Promise<void> } {
  const opts = { prefix, concurrency, ...STALL_SETTINGS }
  if (backend.kind === 'bullmq-redis') {
    const redis = new Redis(backend.url, { maxRetriesPerRequest: null })
    // The Worker's own 'error' listener (import-worker.ts) logs connection errors; this one only keeps ioredis from throwing.
    redis.on('error', () => {})
    const worker = new Worker<ImportJob>(IMPORT_QUEUE, processor, { ...opts, connection: redis }) as unknown as BullWorker
    return { worker, close: async (force) => { await worker.close(force); redis.disconnect() } }
  }
  const worker = new OnPostgres.Worker<ImportJob>(IMPORT_QUEUE, processor as never, { ...opts, connection: { connectionString: backend.url, migrate: true } }) as unknown as BullWorker
  return { worker, close: (force) => worker.close(force) }
}
