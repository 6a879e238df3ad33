import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { giveCloudPbx } from '../../helpers/voice.js'

const ADMIN = '/api/rainbow/admin/v1.0'

describe.each(dbKinds())('admin Cloud PBX read API on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens: Record<'adminA' | 'adminB' | 'orgAdmin', string> = { adminA: '', adminB: '', orgAdmin: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'adminB', 'orgAdmin'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
    await giveCloudPbx(tdb.db, world.companyA, { ranges: [['8000', '8999']], macs: ['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02'], ddis: ['+33298300501'], services: { 'Enterprise Demo': 5 } })
    // One device held by a plain user, one by the organization_admin (above a company_admin's rank).
    await tdb.db.query("UPDATE sip_devices SET user_id = $1, attached_at = now() WHERE mac_address = 'aa:bb:cc:dd:ee:01'", [world.plainUser.id])
    await tdb.db.query("UPDATE sip_devices SET user_id = $1, attached_at = now() WHERE mac_address = 'aa:bb:cc:dd:ee:02'", [world.orgAdmin.id])
    await tdb.db.query("UPDATE users SET services = '{Enterprise Demo}' WHERE id = $1", [world.plainUser.id])
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const get = (who: keyof typeof tokens, url: string) => app.inject({ method: 'GET', url: `${ADMIN}${url}`, headers: bearer(tokens[who]) })

  it('shows the numbering plan, the offers with their licences in use and the inventory counts', async () => {
    const res = await get('adminA', '/cloudpbx')
    expect(res.statusCode).toBe(200)
    expect(res.json().data).toMatchObject({ companyId: world.companyA, numberingPlan: [{ from: '8000', to: '8999' }], services: [{ name: 'Enterprise Demo', licences: 5, used: 1 }], devices: 2, ddis: 1, subscribers: 0 })
  })

  it('lists devices and DDIs with their holders, hiding a holder above the caller\'s rank (D12)', async () => {
    const byCompanyAdmin = (await get('adminA', '/cloudpbx/devices')).json().data
    expect(byCompanyAdmin.map((d: Record<string, unknown>) => [d.macAddress, d.held, d.userId, d.loginEmail])).toEqual([
      ['aa:bb:cc:dd:ee:01', true, world.plainUser.id, world.plainUser.email],
      ['aa:bb:cc:dd:ee:02', true, null, null],
    ])
    const byOrgAdmin = (await get('orgAdmin', '/cloudpbx/devices')).json().data
    expect(byOrgAdmin[1]).toMatchObject({ userId: world.orgAdmin.id, held: true })
    const ddis = (await get('adminA', '/cloudpbx/ddis')).json().data
    expect(ddis).toEqual([expect.objectContaining({ number: '+33298300501', held: false, userId: null, attachedAt: null })])
  })

  it('keeps to the caller\'s companies: 403 outside its scope, 404 in a company without a Cloud PBX, both in the Rainbow envelope', async () => {
    const other = await get('adminB', `/cloudpbx?companyId=${world.companyA}`)
    expect(other.statusCode).toBe(403)
    expect(other.json()).toMatchObject({ errorCode: 403 })
    const none = await get('adminB', '/cloudpbx/devices')
    expect(none.statusCode).toBe(404)
    expect(none.json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found' })
    expect((await get('orgAdmin', `/cloudpbx/ddis?companyId=${world.companyB}`)).statusCode).toBe(404)
  })
})
