import type { Db, Queryable } from '../db/db.js'
import { completeCommandReport, findCommandReport, insertCommandReportIfAbsent, type CommandKind, type CommandStatus } from '../db/commands-repository.js'
import { findImport } from '../db/imports-repository.js'
import { enqueueCommandEnded } from '../db/outbox-repository.js'
import { Errors } from '../errors.js'
import { importView } from '../provisioning/reports.js'

export interface Requester { id: string, jid: string }

export interface CommandReportView { status: CommandStatus, report: Record<string, unknown> }

/**
 * POST /users/imports/synchronize/:commandId/report: creates the command's report or completes it
 * (a running import's included), and owes its command_ended in the same transaction. The command
 * ends once: a second POST, or the import's own end, updates the report but sends nothing more.
 */
export async function reportCommand (
  db: Db, r: { companyId: string, commandId: string, status: 'success' | 'failure', details: unknown, requester: Requester }
): Promise<CommandReportView> {
  const row = await db.transaction(async (tx) => {
    await assertOpen(tx, r.companyId, r.commandId)
    const saved = await completeCommandReport(tx, {
      companyId: r.companyId, kind: 'import', commandId: r.commandId, status: r.status, report: r.details === undefined ? {} : { details: r.details }, requesterId: r.requester.id,
    })
    await enqueueCommandEnded(tx, r.requester.jid, { commandId: r.commandId, companyId: r.companyId, kind: 'report' })
    return saved
  })
  return { status: row.status, report: row.report }
}

/**
 * A POSTed report never replaces the outcome of what ran for the command: a check's report, an
 * import that has ended, or a refusal at intake (they hold what the connector needs to see). Only
 * a running import's report, or one an earlier POST made, may be completed.
 */
async function assertOpen (tx: Queryable, companyId: string, commandId: string): Promise<void> {
  const current = await findCommandReport(tx, companyId, 'import', commandId)
  if (current === undefined) {
    if (await findCommandReport(tx, companyId, 'check', commandId)) {
      throw Errors.conflict(`Command ${commandId} already ended with its check's report (GET /users/imports/synchronize/check/${commandId}/report); a posted report cannot replace it`)
    }
    return
  }
  const imp = current.reqId ? await findImport(tx, current.reqId) : undefined
  if (imp && imp.status !== 'Pending') {
    throw Errors.conflict(`Command ${commandId} already ended: its import ${imp.reqId} is ${imp.status}, and a posted report cannot replace that import's report`)
  }
  if (!imp && 'error' in current.report) {
    throw Errors.conflict(`Command ${commandId} already ended: its synchronize was refused, and a posted report cannot replace that refusal`)
  }
}

/**
 * A synchronize (or its check) with a commandId refused before anything was stored: the command
 * still ends, as a failure carrying the error the caller got, so a connector never waits forever.
 * A command that already has a report (running, or ended earlier) is left alone.
 */
export async function refuseCommand (
  db: Db, r: { companyId: string, kind: CommandKind, commandId: string, error: unknown, requester: Requester }
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await insertCommandReportIfAbsent(tx, {
      companyId: r.companyId, kind: r.kind, commandId: r.commandId, status: 'failure', report: { error: r.error }, reqId: null, requesterId: r.requester.id,
    })
    if (inserted) await enqueueCommandEnded(tx, r.requester.jid, { commandId: r.commandId, companyId: r.companyId, kind: r.kind })
    return inserted
  })
}

/** The import command's report (D1): what was stored, over the import's live summary while it runs. */
export async function importCommandReport (db: Db, companyId: string, commandId: string): Promise<CommandReportView | undefined> {
  const row = await findCommandReport(db, companyId, 'import', commandId)
  if (!row) return undefined
  const imp = row.reqId ? await findImport(db, row.reqId) : undefined
  return { status: row.status, report: imp ? { ...importView(imp), ...row.report } : row.report }
}
