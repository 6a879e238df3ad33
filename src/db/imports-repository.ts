import { manyRows, type Queryable } from './db.js'
import { storableJson, storableText } from './storable.js'

export type ImportStatus = 'Pending' | 'Terminated' | 'Failed' | 'Cancelled'
export type EndedStatus = Exclude<ImportStatus, 'Pending'>

export interface ImportRow {
  reqId: string
  companyId: string
  operation: 'import' | 'synchronize' | 'rainbowvoice' | 'revert'
  mode: string
  status: ImportStatus
  label: string | null
  options: Record<string, unknown>
  commandId: string | null
  requesterId: string
  requesterDisplayName: string | null
  total: number
  processed: number
  succeeded: number
  failed: number
  warnings: number
  errorMsg: string | null
  startTime: Date
  endTime: Date | null
  /** rainbowvoice: what the applied lines did to the Cloud PBX (VoiceCounts); null in the other modes. */
  voiceCounts?: VoiceCounts | null
  /** A revert: the reqId of the import it undoes (issue 18). */
  reverts?: string | null
  /** The reqId of the revert of this import, if there is one. */
  revertedBy?: string | null
}

/** Counted from the voice plans of the lines that did not fail, chunk by chunk. */
export interface VoiceCounts {
  subscribersCreated: number
  subscribersDeleted: number
  subscribersRenumbered: number
  devicesAttached: number
  devicesDetached: number
  ddisAttached: number
  ddisDetached: number
}

export interface NewImportLine {
  seq: number
  lineNumber: number
  action: string
  loginEmail: string
  input: unknown
  line: string
}

export interface StoredLine { seq: number, lineNumber: number, action: string, loginEmail: string | null, input: unknown }

export interface LineOutcome {
  seq: number
  status: 'success' | 'failed' | 'warning'
  userId: string | null
  errorCode: number | null
  errorMsg: string | null
  /** The line's before-image (provisioning/undo.ts LineUndo), for a line that changed something. */
  undo?: unknown
}

const SELECT = `SELECT req_id AS "reqId", company_id AS "companyId", operation, mode, status, label, options,
  command_id AS "commandId", requester_id AS "requesterId", requester_display_name AS "requesterDisplayName",
  total, processed, succeeded, failed, warnings, error_msg AS "errorMsg", start_time AS "startTime", end_time AS "endTime",
  voice_counts AS "voiceCounts", reverts,
  (SELECT r.req_id FROM imports r WHERE r.reverts = imports.req_id) AS "revertedBy"
  FROM imports`

// Well under the 65,535-parameter limit per statement (6 arrays, one parameter each) and small transactions.
const INSERT_BATCH = 5000

/**
 * Returns the stored start time, or undefined when an import with this reqId already exists (D2: the
 * same file twice). The answer must show the start time the reports will show.
 */
export async function insertImport (q: Queryable, r: Omit<ImportRow, 'status' | 'processed' | 'succeeded' | 'failed' | 'warnings' | 'errorMsg' | 'startTime' | 'endTime' | 'revertedBy'>): Promise<Date | undefined> {
  const rows = await q.query<{ startTime: Date }>(
    `INSERT INTO imports (req_id, company_id, operation, mode, label, options, command_id, requester_id, requester_display_name, total, reverts)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11) ON CONFLICT (req_id) DO NOTHING RETURNING start_time AS "startTime"`,
    [r.reqId, r.companyId, r.operation, r.mode, storableText(r.label), storableJson(r.options), r.commandId, r.requesterId, r.requesterDisplayName, r.total, r.reverts ?? null])
  return rows[0]?.startTime
}

export async function insertImportLines (q: Queryable, reqId: string, lines: readonly NewImportLine[]): Promise<void> {
  for (let i = 0; i < lines.length; i += INSERT_BATCH) {
    const batch = lines.slice(i, i + INSERT_BATCH)
    await q.query(
      `INSERT INTO import_lines (req_id, seq, line_number, action, login_email, input, line)
       SELECT $1, s, n, a, e, i::jsonb, l FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(s, n, a, e, i, l)`,
      [reqId, batch.map((l) => l.seq), batch.map((l) => l.lineNumber), batch.map((l) => l.action), batch.map((l) => storableText(l.loginEmail)),
        batch.map((l) => storableJson(l.input)), batch.map((l) => storableText(l.line))])
  }
}

export async function findImport (q: Queryable, reqId: string): Promise<ImportRow | undefined> {
  return (await q.query<ImportRow>(`${SELECT} WHERE req_id = $1`, [reqId]))[0]
}

/** Serialises workers on one import: the holder of this row lock applies its next chunk. */
export async function lockImport (q: Queryable, reqId: string): Promise<ImportRow | undefined> {
  return (await q.query<ImportRow>(`${SELECT} WHERE req_id = $1 FOR UPDATE`, [reqId]))[0]
}

export async function listImports (q: Queryable, companyId: string, limit: number): Promise<ImportRow[]> {
  return q.query<ImportRow>(`${SELECT} WHERE company_id = $1 ORDER BY start_time DESC, req_id LIMIT $2`, [companyId, limit])
}

export async function listPendingImportIds (q: Queryable): Promise<Array<{ reqId: string, companyId: string }>> {
  return q.query('SELECT req_id AS "reqId", company_id AS "companyId" FROM imports WHERE status = \'Pending\' ORDER BY start_time')
}

/**
 * The next `limit` lines without a result after `afterSeq`, in order. Lines are numbered 0…total−1 at
 * intake; each query reads one range of `limit` seqs of the lines and of their results, so a chunk
 * costs the same at the end of a 250,000-line import as at its start. (With `seq > afterSeq` alone
 * and an anti-join, PostgreSQL hashed every result of the import for each chunk.)
 */
export async function nextUnappliedLines (q: Queryable, reqId: string, limit: number, afterSeq: number, lastSeq: number): Promise<StoredLine[]> {
  const lines: StoredLine[] = []
  for (let from = afterSeq; lines.length < limit && from < lastSeq; from += limit) {
    const range = await manyRows<StoredLine>(q,
      `SELECT seq, line_number AS "lineNumber", action, login_email AS "loginEmail", input FROM import_lines l
        WHERE l.req_id = $1 AND l.seq > $2 AND l.seq <= $3
          AND NOT EXISTS (SELECT 1 FROM import_line_results r WHERE r.req_id = $1 AND r.seq = l.seq AND r.seq > $2 AND r.seq <= $3)`,
      [reqId, from, from + limit])
    lines.push(...range.sort((a, b) => a.seq - b.seq))
  }
  return lines.slice(0, limit)
}

/** Which of these lines already have a result (applied by another worker meanwhile). */
export async function appliedSeqs (q: Queryable, reqId: string, fromSeq: number, toSeq: number): Promise<Set<number>> {
  const rows = await q.query<{ seq: number }>('SELECT seq FROM import_line_results WHERE req_id = $1 AND seq BETWEEN $2 AND $3', [reqId, fromSeq, toSeq])
  return new Set(rows.map((r) => r.seq))
}

/** Imports are applied in the order they were accepted within a company: is one still waiting before this one? */
export async function earlierPendingImport (q: Queryable, companyId: string, reqId: string): Promise<string | undefined> {
  const rows = await q.query<{ reqId: string }>(
    `SELECT o.req_id AS "reqId" FROM imports o JOIN imports me ON me.req_id = $2
      WHERE o.company_id = $1 AND o.status = 'Pending' AND o.req_id <> $2
        AND (o.start_time, o.req_id) < (me.start_time, me.req_id) ORDER BY o.start_time LIMIT 1`, [companyId, reqId])
  return rows[0]?.reqId
}

/**
 * Writes the chunk's results with their before-images (issue 18), advances the import's counters by them (one statement) and forgets the
 * chunk's passwords (kept only until the line is applied). A result that exists already fails the
 * insert: the caller's transaction then rolls back whole.
 */
export async function recordLineOutcomes (q: Queryable, reqId: string, outcomes: readonly LineOutcome[], withPassword: readonly number[]): Promise<void> {
  const rows = outcomes.map((o) => ({ seq: o.seq, status: o.status, user_id: o.userId, error_code: o.errorCode, error_msg: o.errorMsg, ...(o.undo ? { undo: o.undo } : {}) }))
  await q.query(
    `WITH added AS (
       INSERT INTO import_line_results (req_id, seq, status, user_id, error_code, error_msg, undo)
       SELECT $1, t.seq, t.status, t.user_id, t.error_code, t.error_msg, t.undo
         FROM jsonb_to_recordset($2::jsonb) AS t(seq int, status text, user_id char(24), error_code int, error_msg text, undo jsonb)
       RETURNING status)
     UPDATE imports SET processed = processed + (SELECT count(*) FROM added),
            succeeded = succeeded + (SELECT count(*) FROM added WHERE status = 'success'),
            failed = failed + (SELECT count(*) FROM added WHERE status = 'failed'),
            warnings = warnings + (SELECT count(*) FROM added WHERE status = 'warning'),
            updated_at = now()
      WHERE req_id = $1`, [reqId, storableJson(rows)])
  if (withPassword.length > 0) {
    await q.query('UPDATE import_lines SET input = input #- \'{values,password}\' WHERE req_id = $1 AND seq = ANY($2::int[])', [reqId, withPassword])
  }
}

/** Adds a chunk's Cloud PBX counts to the import's (same transaction as its results). */
export async function addVoiceCounts (q: Queryable, reqId: string, counts: VoiceCounts): Promise<void> {
  await q.query(
    `UPDATE imports SET voice_counts = (SELECT jsonb_object_agg(k, coalesce((voice_counts ->> k)::int, 0) + (d ->> k)::int)
                                          FROM (SELECT $2::jsonb AS d) x, jsonb_object_keys(d) AS k)
      WHERE req_id = $1`, [reqId, storableJson(counts)])
}

/** Only a Pending import ends, once: callers hold its row lock (lockImport) and saw it Pending. */
export async function finishImport (q: Queryable, reqId: string, status: EndedStatus, errorMsg: string | null): Promise<void> {
  await q.query('UPDATE imports SET status = $2, error_msg = $3, end_time = now(), updated_at = now() WHERE req_id = $1 AND status = \'Pending\'', [reqId, status, errorMsg])
}

/** The import, its lines and their results (the caller's transaction keeps them together). */
export async function deleteImport (q: Queryable, reqId: string): Promise<void> {
  await q.query('DELETE FROM import_line_results WHERE req_id = $1', [reqId])
  await q.query('DELETE FROM imports WHERE req_id = $1', [reqId])
}

export interface ReportLine {
  seq: number
  lineNumber: number
  action: string
  loginEmail: string | null
  status: string | null
  userId: string | null
  errorCode: number | null
  errorMsg: string | null
  line: string | null
}

/**
 * The per-line report of the lines numbered (afterSeq, afterSeq + count], in file order: a range of
 * the lines and of their results, so each page costs the same however large the report.
 */
export async function reportPage (q: Queryable, reqId: string, afterSeq: number, count: number): Promise<ReportLine[]> {
  return q.query<ReportLine>(
    `SELECT l.seq, l.line_number AS "lineNumber", l.action, l.login_email AS "loginEmail", r.status, r.user_id AS "userId",
            r.error_code AS "errorCode", r.error_msg AS "errorMsg", CASE WHEN r.status = 'failed' THEN l.line END AS line
       FROM import_lines l
       LEFT JOIN import_line_results r ON r.req_id = l.req_id AND r.seq = l.seq AND r.seq > $2 AND r.seq <= $3
      WHERE l.req_id = $1 AND l.seq > $2 AND l.seq <= $3 ORDER BY l.seq`, [reqId, afterSeq, afterSeq + count])
}
