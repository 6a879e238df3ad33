import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, login, type TestApp } from '../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'

const ENDUSER = '/api/rainbow/enduser/v1.0'

// The two end-user reads the official SDK makes around sign-in (contract §8).
describe.each(dbKinds())('enduser reads on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens: Record<'plainUser' | 'adminA' | 'orgAdmin' | 'superadmin' | 'adminB', string> = { plainUser: '', adminA: '', orgAdmin: '', superadmin: '', adminB: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of Object.keys(tokens) as Array<keyof typeof tokens>) tokens[who] = await login(app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const get = (who: keyof typeof tokens | null, url: string) => app.inject({ method: 'GET', url: `${ENDUSER}${url}`, headers: who === null ? {} : bearer(tokens[who]) })

  it('GET /users/:userId: a plain user reads itself and its colleagues, nobody of another company', async () => {
    const self = await get('plainUser', `/users/${world.plainUser.id}`)
    expect(self.statusCode).toBe(200)
    expect(self.json().data).toMatchObject({ id: world.plainUser.id, loginEmail: world.plainUser.email, companyId: world.companyA })
    expect(self.json().data).not.toHaveProperty('passwordHash')
    expect((await get('plainUser', `/users/${world.adminA.id}`)).statusCode).toBe(200)
    const foreign = await get('plainUser', `/users/${world.userB.id}`)
    expect(foreign.statusCode).toBe(404)
    expect(foreign.json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found', errorDetailsCode: 404000 })
    expect((await get('plainUser', '/users/not-an-id')).statusCode).toBe(404)
    expect((await get(null, `/users/${world.plainUser.id}`)).statusCode).toBe(401)
  })

  it('GET /users/:userId: beyond its company, an administrator\'s scope and rank rules', async () => {
    expect((await get('orgAdmin', `/users/${world.userB.id}`)).statusCode).toBe(200)
    expect((await get('adminA', `/users/${world.userB.id}`)).statusCode).toBe(404)
    expect((await get('superadmin', `/users/${world.userB.id}`)).statusCode).toBe(200)
    // The superadmin's company is C: the organization_admin of A may not read it (out of scope, and above its rank).
    expect((await get('orgAdmin', `/users/${world.superadmin.id}`)).statusCode).toBe(404)
  })

  it('GET /companies/:companyId as the SDK asks it: its own company for anyone, others within an admin scope, else 404', async () => {
    const own = await get('plainUser', `/companies/${world.companyA}?format=full&selectedThemeObj=false`)
    expect(own.statusCode).toBe(200)
    expect(own.json().data).toMatchObject({ id: world.companyA, name: expect.stringMatching(/^A-/), organisationId: expect.any(String) })
    expect((await get('plainUser', `/companies/${world.companyB}`)).statusCode).toBe(404)
    expect((await get('adminA', `/companies/${world.companyB}`)).statusCode).toBe(404)
    expect((await get('orgAdmin', `/companies/${world.companyB}`)).statusCode).toBe(200)
    expect((await get('superadmin', `/companies/${world.companyA}`)).statusCode).toBe(200)
    expect((await get('superadmin', `/companies/${'f'.repeat(24)}`)).statusCode).toBe(404)
    expect((await get('plainUser', `/companies/${world.companyA}?format=huge`)).statusCode).toBe(400)
  })
})
