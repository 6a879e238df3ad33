import type { Queryable } from './db.js'

/**
 * Gives every line of the import still without a result a failed result with this code, counts
 * them, and forgets their passwords: an import that ends early keeps no password it did not apply.
 */
export async function markUnappliedLines (q: Queryable, reqId: string, code: number, message: string): Promise<number> {
  const rows = await q.query<{ n: number }>(
    `WITH added AS (
       INSERT INTO import_line_results (req_id, seq, status, error_code, error_msg)
       SELECT l.req_id, l.seq, 'failed', $2, $3 FROM import_lines l
        WHERE l.req_id = $1 AND NOT EXISTS (SELECT 1 FROM import_line_results r WHERE r.req_id = $1 AND r.seq = l.seq)
       RETURNING seq),
     counted AS (SELECT count(*)::int AS n FROM added)
     UPDATE imports SET processed = processed + counted.n, failed = failed + counted.n, updated_at = now()
       FROM counted WHERE req_id = $1 RETURNING counted.n AS n`, [reqId, code, message])
  await q.query('UPDATE import_lines SET input = input #- \'{values,password}\' WHERE req_id = $1 AND input -> \'values\' ? \'password\'', [reqId])
  return rows[0]?.n ?? 0
}

/** A worker took the import up: its progress clock restarts (the stall watchdog reads it). */
export async function touchImport (q: Queryable, reqId: string): Promise<void> {
  await q.query('UPDATE imports SET updated_at = now() WHERE req_id = $1 AND status = \'Pending\'', [reqId])
}

/**
 * Pending imports on which nothing has happened for `stallSeconds`: neither progress of their own
 * (updated_at) nor, for an import queued behind another of its company, the end of that one (its
 * clock starts when the company is free). An import waiting behind a Pending one is never stalled
 * itself: only the first Pending import of each company is.
 */
export async function listStalledImports (q: Queryable, stallSeconds: number, limit = 100): Promise<string[]> {
  const rows = await q.query<{ reqId: string }>(
    `SELECT i.req_id AS "reqId" FROM imports i
      WHERE i.status = 'Pending' AND i.updated_at < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM imports o WHERE o.company_id = i.company_id AND o.status = 'Pending'
                          AND (o.start_time, o.req_id) < (i.start_time, i.req_id))
        AND NOT EXISTS (SELECT 1 FROM imports o WHERE o.company_id = i.company_id AND o.status <> 'Pending'
                          AND o.end_time >= now() - make_interval(secs => $1))
      ORDER BY i.start_time LIMIT $2`, [stallSeconds, limit])
  return rows.map((r) => r.reqId)
}

/**
 * Locks the import's row if it is Pending and its progress clock is older than `stallSeconds`. A row
 * locked by someone else is skipped, not waited for: a chunk's transaction holds it, so a worker is
 * at work on it right now.
 */
export async function lockIfStalled (q: Queryable, reqId: string, stallSeconds: number): Promise<boolean> {
  const rows = await q.query<{ reqId: string }>(
    `SELECT req_id AS "reqId" FROM imports WHERE req_id = $1 AND status = 'Pending' AND updated_at < now() - make_interval(secs => $2)
       FOR UPDATE SKIP LOCKED`, [reqId, stallSeconds])
  return rows.length > 0
}
