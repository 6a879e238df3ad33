import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { holdNumber } from '../../jobs/helpers/import-app.js'

const ADMIN = '/api/rainbow/admin/v1.0'

describe.each(dbKinds())('admin read API on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens: Record<'adminA' | 'orgAdmin' | 'superadmin', string> = { adminA: '', orgAdmin: '', superadmin: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'orgAdmin', 'superadmin'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const get = (who: keyof typeof tokens, url: string) => app.inject({ method: 'GET', url: `${ADMIN}${url}`, headers: bearer(tokens[who]) })

  it('lists the caller\'s company by default, paged, without any password hash', async () => {
    const res = await get('orgAdmin', '/users')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.total).toBe(3) // adminA, orgAdmin, plainUser
    expect(body.data.map((u: { loginEmail: string }) => u.loginEmail).sort()).toEqual([world.adminA.email, world.orgAdmin.email, world.plainUser.email].sort())
    expect(res.body).not.toMatch(/argon2|passwordHash|password_hash/)
    const page = (await get('orgAdmin', '/users?limit=2&offset=2')).json()
    expect(page).toMatchObject({ limit: 2, offset: 2, total: 3 })
    expect(page.data).toHaveLength(1)
  })

  it('leaves out, and answers 404 for, the users above the caller\'s rank (D12): a company_admin does not see its organization_admin', async () => {
    const own = (await get('adminA', '/users')).json()
    expect(own.total).toBe(2)
    expect(own.data.map((u: { loginEmail: string }) => u.loginEmail).sort()).toEqual([world.adminA.email, world.plainUser.email].sort())
    expect((await get('adminA', `/users/${world.orgAdmin.id}`)).statusCode).toBe(404)
    expect((await get('adminA', `/users/${world.orgAdmin.id}`)).json().errorDetails).toBe((await get('adminA', `/users/${'0'.repeat(24)}`)).json().errorDetails.replace('0'.repeat(24), world.orgAdmin.id))
    expect((await get('adminA', `/users/${world.adminA.id}`)).statusCode).toBe(200)
    expect((await get('orgAdmin', `/users/${world.orgAdmin.id}`)).statusCode).toBe(200)
    expect((await get('superadmin', `/users?companyId=${world.companyC}`)).json().total).toBe(1)
  })

  it('a soft-deleted user is not listed and not found', async () => {
    await tdb.db.query('UPDATE users SET deleted_at = now() WHERE id = $1', [world.plainUser.id])
    try {
      expect((await get('orgAdmin', '/users')).json().total).toBe(2)
      expect((await get('orgAdmin', `/users/${world.plainUser.id}`)).statusCode).toBe(404)
    } finally {
      await tdb.db.query('UPDATE users SET deleted_at = NULL WHERE id = $1', [world.plainUser.id])
    }
  })

  it('bad paging parameters are a 400 naming the parameter', async () => {
    const res = await get('adminA', '/users?limit=0')
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ errorCode: 400, errorDetailsCode: 400000 })
    expect(JSON.stringify(res.json().errorDetails)).toContain('limit')
    expect((await get('adminA', '/users?companyId=not-an-id')).statusCode).toBe(400)
  })

  it('an organization_admin sees the companies of its organization only', async () => {
    expect((await get('orgAdmin', `/users?companyId=${world.companyB}`)).json().total).toBe(2)
    expect((await get('orgAdmin', `/users/${world.userB.id}`)).statusCode).toBe(200)
    expect((await get('orgAdmin', `/users?companyId=${world.companyC}`)).statusCode).toBe(403)
    expect((await get('orgAdmin', `/users/${world.superadmin.id}`)).statusCode).toBe(404)
  })

  it('a superadmin sees every company; an unknown company is a 404 for it and a 403 for others', async () => {
    expect((await get('superadmin', `/users?companyId=${world.companyA}`)).json().total).toBe(3)
    expect((await get('superadmin', `/users/${world.userB.id}`)).json().data.loginEmail).toBe(world.userB.email)
    expect((await get('superadmin', '/users?companyId=ffffffffffffffffffffffff')).statusCode).toBe(404)
    expect((await get('adminA', '/users?companyId=ffffffffffffffffffffffff')).statusCode).toBe(403)
  })

  it('one user by id has the Rainbow field names', async () => {
    const res = await get('adminA', `/users/${world.plainUser.id}`)
    expect(res.statusCode).toBe(200)
    expect(res.json().data).toMatchObject({ id: world.plainUser.id, loginEmail: world.plainUser.email, companyId: world.companyA, roles: ['user'], adminType: null, isActive: true, accountType: 'free', tags: [], emails: [], phoneNumbers: [] })
    expect((await get('adminA', '/users/123')).statusCode).toBe(404)
  })

  it('the user view lists the PBX numbers the user holds (extension, private number, DDI) after its own', async () => {
    const pbxId = (await get('adminA', '/pbxs')).json().data[0].pbxId as string
    await tdb.db.query("UPDATE users SET phone_numbers = '[{\"number\": \"+33612345678\", \"type\": \"work\", \"deviceType\": \"mobile\"}]' WHERE id = $1", [world.plainUser.id])
    await holdNumber(tdb.db, world.plainUser.id, pbxId, '2001')
    try {
      const one = (await get('adminA', `/users/${world.plainUser.id}`)).json().data
      expect(one.phoneNumbers).toEqual([
        { number: '+33612345678', type: 'work', deviceType: 'mobile' },
        { phoneNumberId: expect.any(String), systemId: expect.any(String), pbxId, shortNumber: '2001', internalNumber: null, number: '+33123002001', numberE164: '+33123002001', type: 'work', deviceType: 'landline', isFromSystem: true, isVisibleByOthers: true },
      ])
      const listed = (await get('adminA', '/users')).json().data.find((u: { id: string }) => u.id === world.plainUser.id)
      expect(listed.phoneNumbers).toEqual(one.phoneNumbers)
      // ?userId on the PBX's numbers: only what that user holds.
      const held = (await get('adminA', `/pbxs/${pbxId}/phonenumbers?userId=${world.plainUser.id}`)).json().data
      expect(held.map((n: { shortNumber: string, userId: string }) => [n.shortNumber, n.userId])).toEqual([['2001', world.plainUser.id]])
      expect((await get('adminA', `/pbxs/${pbxId}/phonenumbers?userId=${world.adminA.id}`)).json().data).toEqual([])
      expect((await get('adminA', `/pbxs/${pbxId}/phonenumbers?userId=nope`)).statusCode).toBe(400)
    } finally {
      await holdNumber(tdb.db, null, pbxId, '2001')
      await tdb.db.query("UPDATE users SET phone_numbers = '[]' WHERE id = $1", [world.plainUser.id])
    }
  })

  it('GET /users filters by loginEmail (without case), still within the caller\'s rank', async () => {
    const one = (await get('adminA', `/users?loginEmail=${encodeURIComponent(world.plainUser.email.toUpperCase())}`)).json()
    expect(one.total).toBe(1)
    expect(one.data.map((u: { id: string }) => u.id)).toEqual([world.plainUser.id])
    expect((await get('adminA', '/users?loginEmail=nobody%40example.com')).json()).toMatchObject({ total: 0, data: [] })
    // The organization_admin is above a company_admin: filtering by its e-mail finds nothing.
    expect((await get('adminA', `/users?loginEmail=${encodeURIComponent(world.orgAdmin.email)}`)).json().total).toBe(0)
    expect((await get('orgAdmin', `/users?loginEmail=${encodeURIComponent(world.orgAdmin.email)}`)).json().total).toBe(1)
  })

  it('PBXs and their numbers are scoped like users', async () => {
    const pbxs = (await get('adminA', '/pbxs')).json().data
    expect(pbxs).toHaveLength(1)
    expect(pbxs[0]).toMatchObject({ companyId: world.companyA, phoneNumbers: 3 })
    const numbers = (await get('adminA', `/pbxs/${pbxs[0].pbxId}/phonenumbers`)).json().data
    expect(numbers.map((n: { shortNumber: string }) => n.shortNumber)).toEqual(['2000', '2001', '2002'])
    expect(numbers[0]).toMatchObject({ pbxId: pbxs[0].pbxId, number: '+33123002000', userId: null })

    const pbxB = (await get('superadmin', `/pbxs?companyId=${world.companyB}`)).json().data[0].pbxId
    expect((await get('adminA', `/pbxs/${pbxB}/phonenumbers`)).statusCode).toBe(404)
    expect((await get('orgAdmin', `/pbxs/${pbxB}/phonenumbers`)).statusCode).toBe(200)
    expect((await get('adminA', `/pbxs?companyId=${world.companyB}`)).statusCode).toBe(403)
    expect((await get('adminA', '/pbxs/NOPE/phonenumbers')).statusCode).toBe(404)
  })
})
