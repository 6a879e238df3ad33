import type { Queryable } from './db.js'
import { newId } from '../util/ids.js'

export interface CommandEndedPayload { commandId: string, companyId: string, kind: 'check' | 'import' | 'report' }

export interface ImportStatusPayload {
  reqId: string
  companyId: string
  commandId: string
  seq: number
  status: string
  succeeded: number
  failed: number
  warnings: number
  total: number
}

export type OutboxKind = 'command_ended' | 'import_status'

export interface OwedRow {
  id: string
  kind: OutboxKind
  toJid: string
  payload: Record<string, unknown>
  attempts: number
  createdAt: Date
}

/**
 * An import command ends once, whichever comes first: the import's end, a refusal at intake, or a
 * report POSTed for its commandId. A check is not deduplicated: each check run answers the
 * connector, so running a command's check again ends it once more.
 */
export function commandEndedKey (p: CommandEndedPayload): string | null {
  return p.kind === 'check' ? null : `command_ended:${p.companyId}:import:${p.commandId}`
}

/**
 * Written in the transaction that makes the notification true; the relay delivers it later (D14).
 * Returns the row id, or undefined when the import command had already ended (nothing written).
 */
export async function enqueueCommandEnded (q: Queryable, toJid: string, payload: CommandEndedPayload): Promise<string | undefined> {
  return insertOwed(q, 'command_ended', toJid, payload, commandEndedKey(payload))
}

export async function enqueueImportStatus (q: Queryable, toJid: string, payload: ImportStatusPayload): Promise<string | undefined> {
  return insertOwed(q, 'import_status', toJid, payload, `import_status:${payload.reqId}:${payload.seq}`)
}

async function insertOwed (q: Queryable, kind: OutboxKind, toJid: string, payload: object, key: string | null): Promise<string | undefined> {
  const rows = await q.query<{ id: string }>(
    'INSERT INTO outbox (id, kind, to_jid, payload, dedupe_key) VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id',
    [newId(), kind, toJid, JSON.stringify(payload), key])
  return rows[0]?.id
}

export async function listOutbox (q: Queryable, kind: string): Promise<Array<{ id: string, toJid: string, payload: Record<string, unknown>, sentAt: Date | null, attempts: number, lastError: string | null }>> {
  return q.query(`SELECT id, to_jid AS "toJid", payload, sent_at AS "sentAt", attempts, last_error AS "lastError"
    FROM outbox WHERE kind = $1 ORDER BY created_at, id`, [kind])
}

/**
 * Leases the due rows to one relay: their next attempt moves leaseSeconds ahead, so another relay
 * (SKIP LOCKED while this statement runs, the lease after it) cannot send them meanwhile. A relay
 * that dies mid-send leaves the rows due again once the lease ends: delivery is at-least-once.
 * Progress goes before the command_ended of the same batch, so a connector reads the final counters first.
 */
export async function claimOwed (q: Queryable, limit: number, leaseSeconds: number): Promise<OwedRow[]> {
  const rows = await q.query<OwedRow>(
    `UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       FROM (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= now()
              ORDER BY next_attempt_at, created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due
      WHERE o.id = due.id
      RETURNING o.id, o.kind, o.to_jid AS "toJid", o.payload, o.attempts, o.created_at AS "createdAt"`,
    [limit, leaseSeconds])
  const rank = (r: OwedRow) => (r.kind === 'command_ended' ? 1 : 0)
  return rows.sort((a, b) => rank(a) - rank(b) || a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
}

export async function markSent (q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await q.query('UPDATE outbox SET sent_at = now(), last_error = NULL WHERE id = ANY($1::text[]) AND sent_at IS NULL', [ids])
}

/** Capped exponential backoff per row: base·2^(attempts-1) seconds, at most maxSeconds. */
export async function releaseFailed (q: Queryable, ids: readonly string[], error: string, backoff: { baseSeconds: number, maxSeconds: number }): Promise<void> {
  if (ids.length === 0) return
  await q.query(
    `UPDATE outbox SET last_error = $2,
            next_attempt_at = now() + make_interval(secs => least($4::float8, $3::float8 * power(2, greatest(attempts - 1, 0))))
      WHERE id = ANY($1::text[]) AND sent_at IS NULL`,
    [ids, error.slice(0, 1000), backoff.baseSeconds, backoff.maxSeconds])
}

/** Rows leased but not attempted (the connection went away first): due again at once, attempt not counted. */
export async function releaseUnattempted (q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await q.query('UPDATE outbox SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0) WHERE id = ANY($1::text[]) AND sent_at IS NULL', [ids])
}

export async function countOwed (q: Queryable): Promise<number> {
  const rows = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL')
  return rows[0]?.n ?? 0
}
