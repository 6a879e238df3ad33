import type { Db, Queryable } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import { lockIfStalled, markUnappliedLines } from '../db/import-endings-repository.js'
import { findImport, finishImport, lockImport, type EndedStatus, type ImportRow } from '../db/imports-repository.js'
import { enqueueCommandEnded } from '../db/outbox-repository.js'
import { PlanCodes } from './codes.js'

export type ImportEnding = { status: 'Terminated' } | { status: 'Failed' | 'Cancelled', errorMsg: string }

const UNAPPLIED: Record<Exclude<EndedStatus, 'Terminated'>, { code: number, message: string }> = {
  Failed: { code: PlanCodes.notApplied, message: 'not applied: the import failed before this line' },
  Cancelled: { code: PlanCodes.cancelled, message: 'not applied: the import was cancelled before this line' },
}

/**
 * The one way an import ends (D16), whatever ends it: the job after its last line (Terminated), the
 * job giving up or the stall watchdog (Failed), an admin (Cancelled). The caller holds the import's
 * row lock and saw it Pending, so a chunk in flight has either committed before (its lines stay
 * applied) or sees the import ended and applies nothing. Lines never applied get a failed result
 * with their own code; the company is free as soon as this commits (only Pending blocks it); a
 * command ends with its report and one command_ended, as Terminated does.
 */
export async function endImport (tx: Queryable, imp: ImportRow, ending: ImportEnding): Promise<void> {
  const errorMsg = ending.status === 'Terminated' ? null : ending.errorMsg
  if (ending.status !== 'Terminated') {
    const unapplied = UNAPPLIED[ending.status]
    await markUnappliedLines(tx, imp.reqId, unapplied.code, unapplied.message)
  }
  await finishImport(tx, imp.reqId, ending.status, errorMsg)
  if (!imp.commandId) return
  const done = (await findImport(tx, imp.reqId))!
  await upsertCommandReport(tx, {
    companyId: imp.companyId,
    kind: 'import',
    commandId: imp.commandId,
    status: ending.status === 'Terminated' && done.failed === 0 ? 'success' : 'failure',
    report: {
      reqId: imp.reqId,
      processed: done.processed,
      counters: { succeeded: done.succeeded, failed: done.failed, warnings: done.warnings, total: imp.total },
      ...(ending.status === 'Terminated' ? {} : { status: ending.status, errorMsg }),
    },
    reqId: imp.reqId,
    requesterId: imp.requesterId,
  })
  const jid = typeof imp.options.requesterJid === 'string' ? imp.options.requesterJid : null
  if (jid) await enqueueCommandEnded(tx, jid, { commandId: imp.commandId, companyId: imp.companyId, kind: 'import' })
}

export type EndAttempt = { ended: true, imp: ImportRow } | { ended: false, imp: ImportRow | undefined }

/**
 * Ends a Pending import as Failed or Cancelled in a transaction of its own. `unlessProgressWithin`
 * (the watchdog) leaves it alone if a worker made progress meanwhile. Not Pending any more: nothing
 * changes and the import is returned as it is.
 */
export async function endPendingImport (
  db: Db, reqId: string, ending: Exclude<ImportEnding, { status: 'Terminated' }>, opts: { unlessProgressWithin?: number } = {}
): Promise<EndAttempt> {
  return db.transaction(async (tx) => {
    if (opts.unlessProgressWithin !== undefined && !await lockIfStalled(tx, reqId, opts.unlessProgressWithin)) return { ended: false, imp: await findImport(tx, reqId) }
    const imp = await lockImport(tx, reqId)
    if (imp?.status !== 'Pending') return { ended: false, imp }
    await endImport(tx, imp, ending)
    return { ended: true, imp: (await findImport(tx, reqId))! }
  })
}

/**
 * An admin's cancel (D16): ends a Pending import as Cancelled at once, whether or not a worker is
 * running it. Under the import's row lock, the chunk in flight commits first and stays applied, and
 * every later chunk finds the import Cancelled and applies nothing: chunk boundaries are the stop
 * points, and no worker needs to be reached.
 */
export function cancelImport (db: Db, reqId: string, by: string): Promise<EndAttempt> {
  return endPendingImport(db, reqId, { status: 'Cancelled', errorMsg: `cancelled by ${by}; the lines not applied by then are marked ${PlanCodes.cancelled}` })
}
