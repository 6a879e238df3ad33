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
