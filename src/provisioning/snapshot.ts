import type { CsvRow } from '../csv/types.js'
import type { Queryable } from '../db/db.js'
import { loadVoiceInventory } from '../db/cloudpbx-repository.js'
import { findNumbersInvolved, listCompanyPbxIds } from '../db/pbx-repository.js'
import { findLiveUsersByEmails } from '../db/users-repository.js'
import { fieldsNamed } from './fields.js'
import type { Snapshot } from './plan.js'

const SNAPSHOT_BATCH = 5000

export interface SnapshotOptions {
  /** Read the company's PBXs too (default true). */
  pbxs?: boolean
  /** Every live login e-mail, when known: only these are looked up. */
  live?: ReadonlySet<string> | undefined
  /** A rainbowvoice file: read the Cloud PBX inventory its lines involve (deletes read it in every mode). */
  voice?: boolean
  /** Read the numbering plan and the offers too (default true); a streamed check reads them with its first batch. */
  voiceHead?: boolean
  /** An earlier batch found the company's Cloud PBX: it is not looked up again. */
  cloudPbxExists?: boolean
  /**
   * Planning holds the company's whole Cloud PBX inventory (a check read it first): only the
   * devices and DDIs it does not know are read (another company's, or none), and no subscriber or
   * holder, since a company's users hold only its own (an item never changes company).
   */
  wholeInventory?: { knowsVoiceItem: (table: 'sip_devices' | 'ddi_numbers', key: string) => boolean } | undefined
  /**
   * Planning holds the company's live users and the numbers they hold (a check read them first):
   * only the e-mails it does not know are read (another company's users).
   */
  wholeUsers?: { knowsUser: (loginEmail: string) => boolean } | undefined
}

/**
 * Loads what planning these rows needs: their users (any company), the numbers they name or hold,
 * and the company's PBXs unless `pbxs` is false (a streamed check reads those once, not per batch).
 */
export async function loadSnapshot (q: Queryable, companyId: string, rows: readonly CsvRow[], { pbxs = true, live, voice = false, voiceHead = true, cloudPbxExists = false, wholeInventory, wholeUsers }: SnapshotOptions = {}): Promise<Snapshot> {
  // Plain loops: this runs for every batch of a file of hundreds of thousands of lines.
  const emailSet = new Set<string>()
  const shortSet = new Set<string>()
  for (const r of rows) {
    if (r.valid && r.loginEmail && (live === undefined || live.has(r.loginEmail)) && wholeUsers?.knowsUser(r.loginEmail) !== true) emailSet.add(r.loginEmail)
    if (r.values.pbxShortNumber) shortSet.add(r.values.pbxShortNumber)
  }
  const emails = [...emailSet]
  const shorts = [...shortSet]
  const users: Snapshot['users'] = []
  // Chunked, with a macrotask turn between queries: PGlite answers on the event loop, and one
  // 100,000-element lookup blocked it for over a second.
  const withVoice = voice || rows.some((r) => r.action === 'delete')
  // A Rainbow Voice line takes or frees licences: the services a user has are needed to count them.
  const fields = withVoice ? [...new Set([...fieldsNamed(rows), 'services' as const])] : fieldsNamed(rows)
  for (let i = 0; i < emails.length; i += SNAPSHOT_BATCH) {
    users.push(...await findLiveUsersByEmails(q, emails.slice(i, i + SNAPSHOT_BATCH), fields))
    if (i + SNAPSHOT_BATCH < emails.length) await new Promise((resolve) => setImmediate(resolve))
  }
  // create and update never read or free the numbers a user holds: only the other actions need them.
  const holderIds: string[] = []
  if (users.length > 0) {
    const touchingNumbers = new Set<string>()
    for (const r of rows) if (r.action !== 'create' && r.action !== 'update') touchingNumbers.add(r.loginEmail)
    for (const u of users) if (u.companyId === companyId && touchingNumbers.has(u.loginEmail)) holderIds.push(u.id)
  }
  const [numbers, companyPbxIds] = await Promise.all([
    findNumbersInvolved(q, companyId, shorts, holderIds),
    // The company's PBXs only tell a line naming a pbxId whether that PBX is the company's.
    pbxs && rows.some((r) => r.values.pbxId) ? listCompanyPbxIds(q, companyId) : [],
  ])
  if (!withVoice) return { users, numbers, companyPbxIds }
  // The keys the lines name; with a table, only those planning does not hold already.
  const named = (key: 'shortNumber' | 'macAddress' | 'ddiE164Number', table?: 'sip_devices' | 'ddi_numbers') => {
    const keys = new Set<string>()
    for (const r of rows) {
      const k = r.values[key]
      if (k && (table === undefined || wholeInventory?.knowsVoiceItem(table, k) !== true)) keys.add(k)
    }
    return [...keys]
  }
  const userIds = wholeInventory ? [] : users.filter((u) => u.companyId === companyId).map((u) => u.id)
  const inventory = await loadVoiceInventory(q, companyId, {
    shortNumbers: wholeInventory ? [] : named('shortNumber'),
    macs: named('macAddress', 'sip_devices'),
    ddis: named('ddiE164Number', 'ddi_numbers'),
    userIds,
  }, voiceHead, cloudPbxExists)
  return { users, numbers, companyPbxIds, voice: inventory }
}
