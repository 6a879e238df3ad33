import type { Queryable } from './db.js'

export interface ProgressDue {
  reqId: string
  companyId: string
  commandId: string
  status: string
  total: number
  processed: number
  succeeded: number
  failed: number
  warnings: number
  toJid: string | null
  /** seq of the last message emitted, 0 when none. */
  lastSeq: number
}

/**
 * Synchronizes with a commandId whose progress is owed: never announced yet; ended since the last
 * message (the final one, never throttled); or running, changed, and the last message at least
 * intervalSeconds old. Only running imports, open progress and imports ended within the hour are
 * candidates (each part indexed): an import that ended during a long outage gets no late progress.
 */
export async function listProgressDue (q: Queryable, intervalSeconds: number, limit = 100): Promise<ProgressDue[]> {
  return q.query<ProgressDue>(
    `WITH candidates AS (
       SELECT req_id FROM imports WHERE status = 'Pending' AND command_id IS NOT NULL
       UNION SELECT req_id FROM import_progress WHERE status = 'Pending'
       UNION SELECT req_id FROM imports WHERE command_id IS NOT NULL AND end_time > now() - interval '1 hour')
     SELECT i.req_id AS "reqId", i.company_id AS "companyId", i.command_id AS "commandId", i.status, i.total, i.processed,
            i.succeeded, i.failed, i.warnings, i.options->>'requesterJid' AS "toJid", coalesce(p.seq, 0) AS "lastSeq"
       FROM candidates c JOIN imports i ON i.req_id = c.req_id LEFT JOIN import_progress p ON p.req_id = i.req_id
      WHERE i.command_id IS NOT NULL AND i.operation = 'synchronize'
        AND (p.req_id IS NULL
             OR (p.status = 'Pending' AND i.status <> 'Pending')
             OR (p.status = 'Pending' AND i.processed <> p.processed AND p.emitted_at <= now() - make_interval(secs => $1)))
      ORDER BY i.start_time LIMIT $2`,
    [intervalSeconds, limit])
}

/**
 * Takes the right to emit message lastSeq + 1: only the relay whose view of lastSeq is still current
 * gets a row back, so two relays never emit the same progress twice.
 */
export async function advanceProgress (q: Queryable, d: ProgressDue): Promise<number | undefined> {
  const rows = await q.query<{ seq: number }>(
    `INSERT INTO import_progress AS p (req_id, seq, processed, status) VALUES ($1, 1, $2, $3)
     ON CONFLICT (req_id) DO UPDATE SET seq = p.seq + 1, processed = EXCLUDED.processed, status = EXCLUDED.status, emitted_at = now()
      WHERE p.seq = $4
     RETURNING seq`,
    [d.reqId, d.processed, d.status, d.lastSeq])
  return rows[0]?.seq
}
