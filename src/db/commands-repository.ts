import type { Queryable } from './db.js'
import { storableJson } from './storable.js'

export type CommandKind = 'check' | 'import'
export type CommandStatus = 'success' | 'failure' | 'pending'

export interface CommandReportRow {
  companyId: string
  kind: CommandKind
  commandId: string
  status: CommandStatus
  report: Record<string, unknown>
  reqId: string | null
  requesterId: string | null
  updatedAt: Date
}

const SELECT = `SELECT company_id AS "companyId", kind, command_id AS "commandId", status, report, req_id AS "reqId",
  requester_id AS "requesterId", updated_at AS "updatedAt" FROM command_reports`

/** Stores (or replaces) the report of a command: a connector may run the same command's check again. */
export async function upsertCommandReport (q: Queryable, r: Omit<CommandReportRow, 'updatedAt'>): Promise<void> {
  await q.query(
    `INSERT INTO command_reports (company_id, kind, command_id, status, report, req_id, requester_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
     ON CONFLICT (company_id, kind, command_id) DO UPDATE
       SET status = EXCLUDED.status, report = EXCLUDED.report, req_id = EXCLUDED.req_id,
           requester_id = EXCLUDED.requester_id, updated_at = now()`,
    [r.companyId, r.kind, r.commandId, r.status, storableJson(r.report), r.reqId, r.requesterId])
}

export async function findCommandReport (q: Queryable, companyId: string, kind: CommandKind, commandId: string): Promise<CommandReportRow | undefined> {
  const rows = await q.query<CommandReportRow>(`${SELECT} WHERE company_id = $1 AND kind = $2 AND command_id = $3`, [companyId, kind, commandId])
  return rows[0]
}

/** A refusal ends a command only if nothing was stored for it yet: it never overrides a running or ended command. */
export async function insertCommandReportIfAbsent (q: Queryable, r: Omit<CommandReportRow, 'updatedAt'>): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO command_reports (company_id, kind, command_id, status, report, req_id, requester_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) ON CONFLICT (company_id, kind, command_id) DO NOTHING RETURNING command_id`,
    [r.companyId, r.kind, r.commandId, r.status, storableJson(r.report), r.reqId, r.requesterId])
  return rows.length > 0
}

/** Creates the report, or completes an existing one: the status is replaced, the given fields merged into the report. */
export async function completeCommandReport (
  q: Queryable, r: { companyId: string, kind: CommandKind, commandId: string, status: CommandStatus, report: Record<string, unknown>, requesterId: string }
): Promise<CommandReportRow> {
  const rows = await q.query<CommandReportRow>(
    `INSERT INTO command_reports AS c (company_id, kind, command_id, status, report, requester_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6)
     ON CONFLICT (company_id, kind, command_id) DO UPDATE
       SET status = EXCLUDED.status, report = c.report || EXCLUDED.report, updated_at = now()
     RETURNING company_id AS "companyId", kind, command_id AS "commandId", status, report, req_id AS "reqId",
       requester_id AS "requesterId", updated_at AS "updatedAt"`,
    [r.companyId, r.kind, r.commandId, r.status, storableJson(r.report), r.requesterId])
  return rows[0]!
}
