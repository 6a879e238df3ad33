import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/csv/parse.js'
import { applyEntries } from '../../src/provisioning/apply.js'
import { planRows } from '../../src/provisioning/plan.js'
import { loadSnapshot } from '../../src/provisioning/snapshot.js'
import { dbKinds } from '../helpers/databases.js'
import { useWorld } from '../helpers/fixtures.js'
import { giveCloudPbx, subscribe, voiceOf } from '../helpers/voice.js'
import { addUser } from './helpers/import-app.js'

// The Cloud PBX changed between planning a Rainbow Voice line and applying it (another import cannot
// run for the company meanwhile, but the operator's tooling can): the line fails with the contract's
// "failed" code of what it could not do (2005, 2006, 2012, 2017, 2021, 2022), alone, as 1009/1012 do.

describe.each(dbKinds())('Rainbow Voice apply-time failures on %s', (kind) => {
  const suite = useWorld(kind)

  it('each change the Cloud PBX no longer allows fails its own line with its code; the others are applied', async () => {
    const { db } = suite.tdb
    const companyId = suite.world.companyA
    const e = (k: string) => `rv-${k}-${companyId}@example.com`
    await giveCloudPbx(db, companyId, {
      ranges: [['8000', '8099']],
      macs: ['02:00:00:00:00:01', '02:00:00:00:00:02'],
      ddis: ['+33298300701', '+33298300702'],
    })
    const [renumbered, withDevice, withDdi, dropsDdi, dropsDevice, intruder] = await Promise.all(['b', 'c', 'd', 'e', 'f', 'x'].map((k) => addUser(db, companyId, e(k))))
    await subscribe(db, companyId, renumbered!, '8010')
    await subscribe(db, companyId, withDevice!, '8020')
    await subscribe(db, companyId, withDdi!, '8030')
    await subscribe(db, companyId, dropsDdi!, '8040', { ddi: '+33298300702' })
    await subscribe(db, companyId, dropsDevice!, '8050', { mac: '02:00:00:00:00:02' })
    const csv = [
      '__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password',
      `upsert;${e('a')};8001;;;`,
      `upsert;${e('b')};8011;;;`,
      `upsert;${e('c')};;02-00-00-00-00-01;;`,
      `upsert;${e('d')};;;+33298300701;`,
      `detach;${e('e')};8040;;+33298300702;`,
      `detach;${e('f')};8050;02:00:00:00:00:02;;`,
      `upsert;${e('g')};8060;;;`,
    ].join('\n')
    const parsed = await parseCsv(csv, { endpoint: 'rainbowvoice' })
    const snapshot = await loadSnapshot(db, companyId, parsed.rows, { voice: true })
    const entries = planRows(parsed.rows, parsed.errors, snapshot, { companyId, nostrict: false, mode: 'rainbowvoice', caller: { id: suite.world.superadmin.id, rank: 3 } })
    expect(entries.map((x) => x.status)).toEqual(Array(7).fill('success'))

    await subscribe(db, companyId, intruder!, '8001')
    await db.query('DELETE FROM voice_subscribers WHERE user_id = $1', [renumbered])
    await db.query("UPDATE sip_devices SET user_id = $1 WHERE mac_address = '02:00:00:00:00:01'", [intruder])
    await db.query("UPDATE ddi_numbers SET user_id = $1 WHERE number = '+33298300701'", [intruder])
    await db.query("UPDATE ddi_numbers SET user_id = NULL WHERE number = '+33298300702'")
    await db.query("UPDATE sip_devices SET user_id = NULL WHERE mac_address = '02:00:00:00:00:02'")

    const results = await db.transaction((tx) => applyEntries(tx, entries, { companyId, xmppDomain: 'localhost', passwordHash: () => null }))
    expect(results.map((r) => [r.lineNumber, r.status, r.errorCode])).toEqual([
      [2, 'failed', 2005], [3, 'failed', 2006], [4, 'failed', 2012], [5, 'failed', 2017], [6, 'failed', 2021], [7, 'failed', 2022], [8, 'success', null],
    ])
    // The failed create rolled back with its line: no user without its subscriber.
    expect(await db.query('SELECT 1 FROM users WHERE login_email = $1 AND deleted_at IS NULL', [e('a')])).toEqual([])
    const g = await db.query<{ id: string }>('SELECT id FROM users WHERE login_email = $1', [e('g')])
    expect((await voiceOf(db, g[0]!.id)).shortNumber).toBe('8060')
  })
})
