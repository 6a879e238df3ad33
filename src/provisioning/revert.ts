import type { Db, Queryable } from '../db/db.js'
import { isUniqueViolation } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import { insertImport, type ImportRow } from '../db/imports-repository.js'
import { countUndoLines, findRevertOf, insertRevertLines, liveEmailOwners, loadUndoState, undoPage, type UndoLine } from '../db/revert-repository.js'
import { Errors } from '../errors.js'
import type { ImportSummary } from './intake.js'
import type { Caller, PlanEntry } from './plan.js'
import { requestId } from './request-id.js'
import { RevertPlanner, revertReads, type RevertLine, type RevertState } from './revert-plan.js'
import type { LineUndo } from './undo.js'

/** What a stored line of a revert holds: the before-image of the line it undoes. */
export interface RevertInput { valid: true, undo: LineUndo | null }

/** Lines planned at a time by the check: one read of the database each. */
const CHECK_PAGE = 2000

/** D2 for a revert: one reqId per reverted import, whoever asks. */
export const revertReqId = (imp: Pick<ImportRow, 'companyId' | 'reqId'>) => requestId(imp.companyId, 'revert', Buffer.from(imp.reqId))

async function readState (q: Queryable, lines: readonly RevertLine[]): Promise<RevertState> {
  const reads = revertReads(lines)
  // In turn: `q` is a transaction's one connection in the job.
  const { users, numbers } = await loadUndoState(q, reads.userIds, reads.numberIds)
  return { users, numbers, emails: reads.loginEmails, owners: await liveEmailOwners(q, reads.loginEmails) }
}

/**
 * Plans a chunk of a revert against the rows as they are in the chunk's transaction; `hashOf` gives
 * the password hash a line puts back (the apply reads it as the line's hash).
 */
export async function planRevertChunk (
  tx: Queryable, companyId: string, caller: Caller, lines: readonly RevertLine[]
): Promise<{ entries: PlanEntry[], hashOf: (lineNumber: number) => string | null }> {
  const planner = new RevertPlanner({ companyId, caller })
  planner.add(await readState(tx, lines))
  return { entries: lines.map((l) => planner.plan(l)), hashOf: (lineNumber) => planner.hashes.get(lineNumber) ?? null }
}

const asRevertLine = (l: UndoLine): RevertLine => ({ lineNumber: l.lineNumber, action: l.action, loginEmail: l.loginEmail ?? '', undo: (l.undo ?? null) as LineUndo | null })

/** Counted by what the line would do (plan outcome), as the check of a file counts by action. */
const ZERO_ACTIONS = { delete: 0, restore: 0, update: 0, attach: 0, detach: 0, unchanged: 0 }

function assertRevertible (imp: ImportRow): void {
  if (imp.status === 'Pending') throw Errors.conflict(`Import ${imp.reqId} is still Pending: it can be reverted once it has ended (Terminated, Failed or Cancelled)`)
  if (imp.mode === 'rainbowvoice') throw Errors.conflict(`Import ${imp.reqId} is a Rainbow Voice import: this server does not revert those`)
}

/**
 * The dry run of a revert: the check answer of a file (§3.1 shape: actions, errors, plan) for the
 * lines the revert would undo, last line first, planned against the database now exactly as the
 * revert will plan them. Writes nothing.
 */
export async function checkRevert (db: Db, imp: ImportRow, caller: Caller, withPlan: boolean): Promise<object> {
  assertRevertible(imp)
  const planner = new RevertPlanner({ companyId: imp.companyId, caller })
  const actions: Record<string, number> = { ...ZERO_ACTIONS }
  const errors: Array<{ lineNumber: number, code: number, message: string }> = []
  const plan: Array<Omit<PlanEntry, 'ops'>> = []
  for (let skip = 0; ; skip += CHECK_PAGE) {
    const page = (await undoPage(db, imp.reqId, skip, CHECK_PAGE)).map(asRevertLine)
    if (page.length === 0) break
    planner.add(await readState(db, page))
    for (const line of page) {
      const { ops: _ops, ...entry } = planner.plan(line)
      if (entry.status === 'failed') errors.push({ lineNumber: entry.lineNumber, code: entry.errorCode!, message: entry.errorMsg ?? '' })
      else actions[entry.outcome] = (actions[entry.outcome] ?? 0) + 1
      if (withPlan) plan.push(entry)
    }
    if (page.length < CHECK_PAGE) break
  }
  return {
    data: {
      reqId: await revertReqId(imp),
      mode: imp.mode,
      actions,
      columns: typeof imp.options.columns === 'number' ? imp.options.columns : 0,
      delimiter: typeof imp.options.delimiter === 'string' ? imp.options.delimiter : ';',
      profiles: {},
      errors,
      ...(withPlan ? { plan } : {}),
      operation: 'revert',
      reverts: imp.reqId,
    },
  }
}

export interface RevertRequest {
  label: string | null
  commandId?: string | undefined
  requester: { id: string, displayName: string, jid: string }
}

export type RevertSummary = ImportSummary & { operation: 'revert', reverts: string }

/**
 * Stores the revert of an ended import as an import of its own (operation revert) with one line per
 * line of the import that changed something, last line first, each carrying that line's before-image:
 * the job applies it as it applies any import, chunk by chunk. One revert per import (409 otherwise).
 */
export async function acceptRevert (db: Db, imp: ImportRow, req: RevertRequest): Promise<RevertSummary> {
  assertRevertible(imp)
  const reqId = await revertReqId(imp)
  const taken = (by: string) => Errors.conflict(`Import ${imp.reqId} is already reverted by reqId ${by}; delete that revert's report (DELETE /users/imports/${by}/details) to revert again`)
  const earlier = await findRevertOf(db, imp.reqId)
  if (earlier) throw taken(earlier.reqId)
  let startTime: Date | undefined
  try {
    startTime = await db.transaction(async (tx) => {
      const created = await insertImport(tx, {
        reqId,
        companyId: imp.companyId,
        operation: 'revert',
        mode: imp.mode,
        label: req.label,
        options: { noemails: true, nostrict: false, reverts: imp.reqId, requesterJid: req.requester.jid, columns: imp.options.columns, delimiter: imp.options.delimiter },
        commandId: req.commandId ?? null,
        requesterId: req.requester.id,
        requesterDisplayName: req.requester.displayName,
        total: await countUndoLines(tx, imp.reqId),
        reverts: imp.reqId,
      })
      if (!created) return undefined
      await insertRevertLines(tx, reqId, imp.reqId)
      if (req.commandId) {
        await upsertCommandReport(tx, { companyId: imp.companyId, kind: 'import', commandId: req.commandId, status: 'pending', report: { reqId }, reqId, requesterId: req.requester.id })
      }
      return created
    })
  } catch (err) {
    // Two reverts of one import racing: imports_reverts lets one through.
    if (isUniqueViolation(err)) throw taken(reqId)
    throw err
  }
  if (!startTime) throw taken(reqId)
  return {
    reqId,
    mode: imp.mode,
    status: 'Pending',
    userId: req.requester.id,
    displayName: req.requester.displayName,
    label: req.label ?? '',
    startTime: startTime.toISOString(),
    companyId: imp.companyId,
    operation: 'revert',
    reverts: imp.reqId,
  }
}
