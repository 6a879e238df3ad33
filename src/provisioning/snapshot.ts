import type { CsvRow } from '../csv/types.js'
import type { Queryable } from '../db/db.js'
import { findNumbersInvolved, listCompanyPbxIds } from '../db/pbx-repository.js'
import { findLiveUsersByEmails } from '../db/users-repository.js'
import type { Snapshot } from './plan.js'

/** Loads what planning these rows needs: their users (any company), the numbers they name or hold. */
export async function loadSnapshot (q: Queryable, companyId: string, rows: readonly CsvRow[]): Promise<Snapshot> {
  const emails = [...new Set(rows.filter((r) => r.valid && r.loginEmail).map((r) => r.loginEmail))]
  const shorts = [...new Set(rows.flatMap((r) => r.values.pbxShortNumber ? [r.values.pbxShortNumber] : []))]
  const users = await findLiveUsersByEmails(q, emails)
  const holderIds = users.filter((u) => u.companyId === companyId).map((u) => u.id)
  const [numbers, companyPbxIds] = await Promise.all([
    findNumbersInvolved(q, companyId, shorts, holderIds),
    listCompanyPbxIds(q, companyId),
  ])
  return { users, numbers, companyPbxIds }
}
