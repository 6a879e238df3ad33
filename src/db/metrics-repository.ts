import type { Queryable } from './db.js'

export interface OperationalCounts {
  importsByStatus: Record<string, number>
  linesProcessed: number
  linesFailed: number
  outboxBacklog: number
}

/** Aggregates over every company, read at scrape time so several processes report one truth. */
export async function readOperationalCounts (db: Queryable): Promise<OperationalCounts> {
  const imports = await db.query<{ status: string, n: string, processed: string, failed: string }>(
    `SELECT status, count(*) AS n, coalesce(sum(processed), 0) AS processed, coalesce(sum(failed), 0) AS failed
       FROM imports GROUP BY status`)
  const [outbox] = await db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL')
  return {
    importsByStatus: Object.fromEntries(imports.map((r) => [r.status, Number(r.n)])),
    linesProcessed: imports.reduce((sum, r) => sum + Number(r.processed), 0),
    linesFailed: imports.reduce((sum, r) => sum + Number(r.failed), 0),
    outboxBacklog: Number(outbox?.n ?? 0),
  }
}

export async function countPendingImports (db: Queryable, companyId: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM imports WHERE company_id = $1 AND status = \'Pending\'', [companyId])
  return Number(row?.n ?? 0)
}
