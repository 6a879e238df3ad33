/**
 * src/jobs: running imports in the background. This file is the ImportQueue interface; bullmq-queue.ts
 * and in-process-queue.ts implement it, import-job.ts runs one import in chunks over provisioning,
 * import-worker.ts and runtime.ts wire the workers for the entries. It may import provisioning,
 * services, csv, db and config types; routes (to enqueue), app.ts and the entries import it.
 * One edge goes the wrong way today: redis.ts takes the ReadinessCheck type from routes/health.ts.
 */
/** "Work on reqId X now": the queue carries no data; PostgreSQL holds the import and its progress. */
export interface ImportJob { reqId: string, companyId: string }

export interface ImportQueue {
  readonly kind: 'in-process' | 'bullmq-redis' | 'bullmq-postgres'
  /** Idempotent: a reqId already waiting or running is not queued twice. */
  enqueue: (job: ImportJob) => Promise<void>
  /** Resolves when nothing is waiting or running (tests, shutdown). */
  drained: () => Promise<void>
  close: () => Promise<void>
}
