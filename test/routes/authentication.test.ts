import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { basic, bearer, buildTestApp, login, type TestApp } from '../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'

const AUTH = '/api/rainbow/authentication/v1.0'

describe.each(dbKinds())('authentication routes on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let strictApp: TestApp
  let world: World

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    strictApp = await buildTestApp(tdb.db, { REQUIRE_APP_AUTH: true })
    world = await createWorld(tdb.db)
  })
  afterAll(async () => {
    await app?.close()
    await strictApp?.close()
    await tdb?.close()
  })

  it('login answers {token, loggedInUser, loggedInApplication} as the SDK reads them', async () => {
    const res = await app.inject({ method: 'GET', url: `${AUTH}/login`, headers: { authorization: basic(world.adminA.email.toUpperCase(), PASSWORD) } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json()
    expect(body.token.split('.')).toHaveLength(3)
    expect(body.loggedInUser).toMatchObject({ id: world.adminA.id, loginEmail: world.adminA.email, companyId: world.companyA, adminType: 'company_admin' })
    expect(body.loggedInUser.jid_im).toMatch(/@localhost$/)
    expect(body.loggedInApplication).toEqual({})
    expect(res.body).not.toMatch(/argon2|passwordHash|password_hash/i)
    const payload = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString())
    expect(payload).toMatchObject({ sub: world.adminA.id, iss: 'massprov', user: { id: world.adminA.id, companyId: world.companyA } })
    expect(payload.exp - payload.iat).toBe(3600)
    expect(JSON.parse(Buffer.from(body.token.split('.')[0], 'base64url').toString()).alg).toBe('HS256')
  })

  it('a wrong password, an unknown login and missing or malformed Basic credentials are 401 in the envelope', async () => {
    for (const authorization of [basic(world.adminA.email, 'Wrong1!pass'), basic('nobody@example.com', PASSWORD), 'Basic %%%', undefined]) {
      const res = await app.inject({ method: 'GET', url: `${AUTH}/login`, headers: authorization ? { authorization } : {} })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ errorCode: 401, errorMsg: 'Unauthorized' })
    }
  })

  it('urls answers {data: []} even with "Bearer null"', async () => {
    const res = await app.inject({ method: 'GET', url: `${AUTH}/urls?useBackchannelPolling=false&uid=${encodeURIComponent(world.adminA.email)}`, headers: { authorization: 'Bearer null' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ data: [] })
  })

  it('logout answers 200 and ends the token it was given', async () => {
    const token = await login(app, world.adminA.email, PASSWORD)
    const other = await login(app, world.adminA.email, PASSWORD)
    const out = await app.inject({ method: 'GET', url: `${AUTH}/logout`, headers: bearer(token) })
    expect(out.statusCode).toBe(200)
    const after = await app.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: bearer(token) })
    expect(after.statusCode).toBe(401)
    const stillOk = await app.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: bearer(other) })
    expect(stillOk.statusCode).toBe(200)
    const anonymous = await app.inject({ method: 'GET', url: `${AUTH}/logout` })
    expect(anonymous.statusCode).toBe(200)
  })

  describe('with REQUIRE_APP_AUTH=true', () => {
    const appAuth = () => basic(world.app.appId, createHash('sha256').update(world.app.appSecret + PASSWORD).digest('hex'))

    it('login without an application credential is 403', async () => {
      const res = await strictApp.inject({ method: 'GET', url: `${AUTH}/login`, headers: { authorization: basic(world.adminA.email, PASSWORD) } })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403501 })
    })

    it('a token obtained with the application works without further headers (the SDK sends them only at login)', async () => {
      const res = await strictApp.inject({ method: 'GET', url: `${AUTH}/login`, headers: { authorization: basic(world.adminA.email, PASSWORD), 'x-rainbow-app-auth': appAuth() } })
      expect(res.statusCode).toBe(200)
      const users = await strictApp.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: bearer(res.json().token) })
      expect(users.statusCode).toBe(200)
    })

    it('a token obtained without an application needs the APIKey header', async () => {
      const token = await login(app, world.adminA.email, PASSWORD)
      const bare = await strictApp.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: bearer(token) })
      expect(bare.statusCode).toBe(403)
      const withKey = await strictApp.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: { ...bearer(token), apikey: world.app.apiToken } })
      expect(withKey.statusCode).toBe(200)
    })

    it('API-key mode: x-rainbow-app-auth over x-rainbow-challenge is verified', async () => {
      const token = await login(app, world.adminA.email, PASSWORD)
      const challenge = 'abcdefghijklmnopqrstuv'
      const digest = (secret: string) => basic(world.app.appId, createHash('sha256').update(secret + challenge).digest('hex'))
      const ok = await strictApp.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: { ...bearer(token), 'x-rainbow-challenge': challenge, 'x-rainbow-app-auth': digest(world.app.appSecret) } })
      expect(ok.statusCode).toBe(200)
      const bad = await strictApp.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: { ...bearer(token), 'x-rainbow-challenge': challenge, 'x-rainbow-app-auth': digest('not-the-secret') } })
      expect(bad.statusCode).toBe(403)
    })
  })
})
