import type { Db } from '../../src/db/db.js'
import { loadCloudPbx } from '../../src/services/cloudpbx-inventory.js'

/** A Rainbow Voice inventory as `massprov load-cloudpbx` would load it. */
export async function giveCloudPbx (db: Db, companyId: string, inv: { ranges?: Array<[string, string]>, macs?: string[], ddis?: string[], services?: Record<string, number> }) {
  return db.transaction((tx) => loadCloudPbx(tx, {
    companyId,
    ranges: (inv.ranges ?? []).map(([from, to]) => ({ from, to })),
    devices: (inv.macs ?? []).map((macAddress) => ({ macAddress, model: 'ALE-20h' })),
    ddis: inv.ddis ?? [],
    services: Object.entries(inv.services ?? {}).map(([name, licences]) => ({ name, licences })),
  }))
}

/** Makes a user a subscriber holding a device and a DDI, as an earlier import would have. */
export async function subscribe (db: Db, companyId: string, userId: string, shortNumber: string, held: { mac?: string, ddi?: string } = {}): Promise<void> {
  await db.query('INSERT INTO voice_subscribers (user_id, company_id, short_number) VALUES ($1, $2, $3)', [userId, companyId, shortNumber])
  if (held.mac) await db.query('UPDATE sip_devices SET user_id = $1, attached_at = now() WHERE mac_address = $2', [userId, held.mac])
  if (held.ddi) await db.query('UPDATE ddi_numbers SET user_id = $1, attached_at = now() WHERE number = $2', [userId, held.ddi])
}

export interface VoiceState { shortNumber: string | null, mac: string | null, ddi: string | null, services: string[] | null, deleted: boolean | null }

/** What a user holds in the Cloud PBX, and its services. */
export async function voiceOf (db: Db, userId: string): Promise<VoiceState> {
  const rows = await db.query<VoiceState>(
    `SELECT (SELECT short_number FROM voice_subscribers WHERE user_id = $1) AS "shortNumber",
            (SELECT mac_address FROM sip_devices WHERE user_id = $1) AS mac,
            (SELECT number FROM ddi_numbers WHERE user_id = $1) AS ddi,
            (SELECT services FROM users WHERE id = $1) AS services,
            (SELECT deleted_at IS NOT NULL FROM users WHERE id = $1) AS deleted`, [userId])
  return rows[0]!
}
