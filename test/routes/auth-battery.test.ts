import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { basic, bearer, buildTestApp, login, TEST_ISSUER, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { craftJwt } from '../helpers/jwt.js'
import { report } from '../helpers/reliability.js'

const USERS = '/api/rainbow/admin/v1.0/users'
const LOGIN = '/api/rainbow/authentication/v1.0/login'

describe.each(dbKinds())('auth battery on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  let token: string

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    token = await login(app, world.adminA.email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })
  // Requests each test saw refused as it expected, for the reliability table.
  let refused = 0
  afterEach(({ task }) => {
    report(task, { refused })
    refused = 0
  })

  const now = () => Math.floor(Date.now() / 1000)
  const claims = (over: Record<string, unknown> = {}) => ({
    sub: world.adminA.id,
    iss: TEST_ISSUER,
    iat: now(),
    exp: now() + 600,
    jti: 'j1',
    user: { id: world.adminA.id, loginEmail: world.adminA.email, companyId: world.companyA },
    ...over,
  })

  /** 401500 no or malformed Authorization, 401501 a token that does not verify or names no live user, 401502 expired. */
  async function expect401 (headers: Record<string, string>, code: 401500 | 401501 | 401502, details?: string) {
    const res = await app.inject({ method: 'GET', url: USERS, headers })
    expect(res.statusCode).toBe(401)
    const body = res.json()
    expect(body).toMatchObject({ errorCode: 401, errorMsg: 'Unauthorized', errorDetailsCode: code })
    if (details) expect(body.errorDetails).toBe(details)
    refused++
    return body
  }

  it('accepts the token issued by login', async () => {
    const res = await app.inject({ method: 'GET', url: USERS, headers: bearer(token) })
    expect(res.statusCode).toBe(200)
  })

  it('401 without Authorization, with a malformed one, and with "Bearer null" (the SDK before login)', async () => {
    await expect401({}, 401500)
    await expect401({ authorization: 'Token abc' }, 401500)
    await expect401({ authorization: 'Bearer not.a.jwt' }, 401501)
    await expect401({ authorization: 'Bearer null' }, 401500)
  })

  it('401 for alg none', async () => {
    await expect401(bearer(craftJwt({ alg: 'none', typ: 'JWT' }, claims(), null)), 401501)
  })

  it('401 for HS512 signed with the right secret (algorithm pinned to HS256), never a 500', async () => {
    await expect401(bearer(craftJwt({ alg: 'HS512', typ: 'JWT' }, claims(), TEST_JWT_SECRET)), 401501)
  })

  it('401 for a token without exp', async () => {
    const { exp: _exp, ...noExp } = claims()
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, noExp, TEST_JWT_SECRET)), 401501)
  })

  it('401 "jwt expired" for an expired token', async () => {
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, claims({ iat: now() - 7200, exp: now() - 60 }), TEST_JWT_SECRET)), 401502, 'jwt expired')
  })

  it('401 for a wrong issuer, a missing sub, and another secret', async () => {
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, claims({ iss: 'someone-else' }), TEST_JWT_SECRET)), 401501)
    const { sub: _sub, ...noSub } = claims()
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, noSub, TEST_JWT_SECRET)), 401501)
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, claims(), 'another-secret-another-secret-another-secret')), 401501)
  })

  it('401 for a tampered payload (sub swapped to a superadmin)', async () => {
    const [head, , sig] = token.split('.')
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
    payload.sub = world.superadmin.id
    const forged = `${head}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`
    await expect401(bearer(forged), 401501)
  })

  it('a correctly signed token of a deleted user is refused', async () => {
    await tdb.db.query('UPDATE users SET deleted_at = now() WHERE id = $1', [world.plainUser.id])
    await expect401(bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, claims({ sub: world.plainUser.id }), TEST_JWT_SECRET)), 401501)
    await tdb.db.query('UPDATE users SET deleted_at = NULL WHERE id = $1', [world.plainUser.id])
  })

  it('403 for a wrong application token (APIKey or x-rainbow-app-auth), 200 for the right one', async () => {
    for (const headers of [{ apikey: 'wrong' }, { 'x-rainbow-app-auth': 'wrong' }, { 'x-rainbow-app-auth': basic('000000000000000000000000', 'f'.repeat(64)) }]) {
      const res = await app.inject({ method: 'GET', url: USERS, headers: { ...bearer(token), ...headers } })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403500 })
      refused++
    }
    const ok = await app.inject({ method: 'GET', url: USERS, headers: { ...bearer(token), apikey: world.app.apiToken } })
    expect(ok.statusCode).toBe(200)
  })

  it('login verifies x-rainbow-app-auth = Basic base64(appId:sha256(appSecret + password))', async () => {
    const digest = createHash('sha256').update(world.app.appSecret + PASSWORD).digest('hex')
    const good = await app.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD), 'x-rainbow-app-auth': basic(world.app.appId, digest) } })
    expect(good.statusCode).toBe(200)
    expect(good.json().loggedInApplication).toEqual({ id: world.app.appId })
    const bad = await app.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD), 'x-rainbow-app-auth': basic(world.app.appId, 'a'.repeat(64)) } })
    expect(bad.statusCode).toBe(403)
    refused++
  })

  it('a company_admin of A gets 403 for company B\'s users and 404 for one of B\'s users by id', async () => {
    const list = await app.inject({ method: 'GET', url: `${USERS}?companyId=${world.companyB}`, headers: bearer(token) })
    expect(list.statusCode).toBe(403)
    expect(list.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403001 })
    const one = await app.inject({ method: 'GET', url: `${USERS}/${world.userB.id}`, headers: bearer(token) })
    expect(one.statusCode).toBe(404)
    expect(one.json()).toMatchObject({ errorCode: 404, errorDetailsCode: 404000 })
    refused += 2
  })

  it('a user without admin rights gets 403 on admin routes', async () => {
    const userToken = await login(app, world.plainUser.email, PASSWORD)
    const res = await app.inject({ method: 'GET', url: USERS, headers: bearer(userToken) })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ errorDetailsCode: 403000 })
    refused++
  })
})
