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
