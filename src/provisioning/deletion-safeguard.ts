import type { CsvRow } from '../csv/types.js'
import type { Queryable } from '../db/db.js'
import { countLiveCompanyUsers } from '../db/users-repository.js'
import { Errors } from '../errors.js'
import { Planner, type PlanOptions } from './plan.js'
import { loadSnapshot } from './snapshot.js'

/**
 * The deletion safeguard (issue 16): an import whose deletions are more than MAX_DELETE_PERCENT % of
 * the company's live users is refused unless it carries confirmDeletes=<that count>. Every check
 * answer carries the same figures as `deletionSafeguard`, so a console can ask for the count first.
 */
export interface DeletionSafeguard {
  /** Lines that would really delete a live user of the company (the planner's `delete` outcome). */
  deletions: number
  /** The company's live users now, whatever their rank. */
  companyUsers: number
  maxDeletePercent: number
  confirmationRequired: boolean
}

/** Over the limit: deletions > maxDeletePercent % of companyUsers, in integers (2 of 20 at 10 % pass, 3 do not). */
export async function assessDeletions (q: Queryable, companyId: string, deletions: number, maxDeletePercent: number): Promise<DeletionSafeguard> {
  const companyUsers = await countLiveCompanyUsers(q, companyId)
  return { deletions, companyUsers, maxDeletePercent, confirmationRequired: deletions * 100 > maxDeletePercent * companyUsers }
}

/** Throws 409630 when confirmation is required and `confirmDeletes` is not the deletion count; ignores it otherwise. */
export function requireConfirmation (s: DeletionSafeguard, confirmDeletes: number | undefined): void {
  if (!s.confirmationRequired || confirmDeletes === s.deletions) return
  const share = `${s.deletions} of the company's ${s.companyUsers} users (${percent(s.deletions, s.companyUsers)} %, over the limit of ${s.maxDeletePercent} %)`
  throw Errors.deletionsNotConfirmed(confirmDeletes === undefined
    ? `This file would delete ${share}: nothing was imported; send it again with confirmDeletes=${s.deletions} to confirm these deletions`
    : `confirmDeletes=${confirmDeletes} does not match: this file would delete ${share}: nothing was imported; send it again with confirmDeletes=${s.deletions} to confirm these deletions`)
}

function percent (part: number, whole: number): string {
  return whole === 0 ? '100' : String(Math.round((part * 1000) / whole) / 10)
}

const BATCH = 5000

/**
 * The deletions of a file at intake, planned by the same Planner the import applies with, but on
 * its delete lines only: a login e-mail appears on one valid line of a file at most (D9, a later
 * duplicate is a line error), so no other line can change what a delete line does, and only a
 * delete line plans as `delete`. Invalid lines (`invalid`: their line numbers) never run.
 */
export async function plannedDeletions (q: Queryable, rows: readonly CsvRow[], invalid: ReadonlySet<number>, opts: PlanOptions): Promise<number> {
  const deletes = rows.filter((r) => r.action === 'delete' && r.valid && !invalid.has(r.lineNumber))
  if (deletes.length === 0) return 0
  const planner = new Planner({ users: [], numbers: [], companyPbxIds: [] }, opts)
  let count = 0
  for (let i = 0; i < deletes.length; i += BATCH) {
    const batch = deletes.slice(i, i + BATCH)
    planner.add(await loadSnapshot(q, opts.companyId, batch, { pbxs: false, voice: opts.mode === 'rainbowvoice', voiceHead: i === 0 }))
    for (const row of batch) if (planner.plan(row).outcome === 'delete') count++
  }
  return count
}
