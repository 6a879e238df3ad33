import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { basic, bearer, buildTestApp, TEST_ISSUER, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js'
import { dbKinds } from '../helpers/databases.js'
import { PASSWORD, useWorld } from '../helpers/fixtures.js'
import { craftJwt } from '../helpers/jwt.js'
import { Browser, ISSUER, OAUTH, pkce } from '../helpers/oauth.js'
import { report } from '../helpers/reliability.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { createApplicationService, type CreatedApplication } from '../../src/services/applications.js'
import { hashPassword } from '../../src/services/passwords.js'
import { softDeleteUsers, updateProvisionedUsers } from '../../src/db/users-write-repository.js'

const REDIRECT = 'https://client.example/cb'
const IMPORTS = '/api/rainbow/massprovisioning/v1.0/users/imports'
const ADMIN_USERS = '/api/rainbow/admin/v1.0/users'
const LOGOUT = '/api/rainbow/authentication/v1.0/logout'

describe.each(dbKinds())('OAuth battery on %s', (kind) => {
  const suite = useWorld(kind)
  let app: TestApp
  let client: CreatedApplication
  let other: CreatedApplication
  // Requests each test saw refused as it expected, for the reliability table.
  let refused = 0
  afterEach(({ task }) => {
    report(task, { refused })
    refused = 0
  })
  const refusedAs = <T>(value: T) => {
    refused++
    return value
  }

  beforeAll(async () => {
    app = await buildTestApp(suite.tdb.db, { PUBLIC_URL: ISSUER, LOGIN_MAX_FAILURES: 3, LOGIN_BACKOFF: 30 })
    const apps = createApplicationService({ db: suite.tdb.db, secretsKey: deriveSecretsKey(TEST_JWT_SECRET) })
    client = await apps.create('Portal', { redirectUris: [REDIRECT, 'http://localhost:8765/cb'] })
    other = await apps.create('Other', { redirectUris: ['https://other.example/cb'] })
  })
  afterAll(async () => {
    await app?.close()
  })

  const authorizeUrl = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))
    return `${OAUTH}/authorize?${q.toString()}`
  }
  const goodParams = (challenge: string, over: Record<string, string | undefined> = {}) => ({
    response_type: 'code', client_id: client.appId, redirect_uri: REDIRECT, state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256', ...over,
  })

  async function code (email = suite.world.adminA.email, redirectUri = REDIRECT) {
    const p = await pkce()
    const callback = await new Browser(app).authorize(authorizeUrl(goodParams(p.challenge, { redirect_uri: redirectUri })), email, PASSWORD)
    return { code: callback.searchParams.get('code')!, ...p }
  }

  const token = (form: Record<string, string>, auth: { id: string, secret: string } | null = { id: client.appId, secret: client.clientSecret! }) =>
    app.inject({
      method: 'POST',
      url: `${OAUTH}/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: basic(auth.id, auth.secret) } : {}) },
      payload: new URLSearchParams(form).toString(),
    })
  const exchange = (c: { code: string, verifier: string }, over: Record<string, string> = {}) =>
    token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, ...over })
  const tokensOf = async (c: { code: string, verifier: string }) => {
    const res = await exchange(c)
    expect(res.statusCode).toBe(200)
    return res.json<{ access_token: string, refresh_token: string }>()
  }
  const status = async (accessToken: string) => (await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(accessToken) })).statusCode
  const expectOAuthError = (res: { statusCode: number, json: () => unknown }, statusCode: number, error: string) => {
    expect(res.statusCode).toBe(statusCode)
    expect(res.json()).toMatchObject({ error })
    refused++
  }

  it('a code used twice is refused, and the tokens issued from it are revoked', async () => {
    const c = await code()
    const tokens = await tokensOf(c)
    expect(await status(tokens.access_token)).toBe(200)
    expectOAuthError(await exchange(c), 400, 'invalid_grant')
    expect(refusedAs(await status(tokens.access_token))).toBe(401)
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant')
  })

  it('an expired code (past its 60 s) is refused', async () => {
    const c = await code()
    await suite.tdb.db.query('UPDATE oauth_codes SET expires_at = now() - interval \'1 second\' WHERE used_at IS NULL')
    expectOAuthError(await exchange(c), 400, 'invalid_grant')
  })

  it('a code issued to one client is refused to another', async () => {
    const fresh = await code()
    expectOAuthError(await token({ grant_type: 'authorization_code', code: fresh.code, redirect_uri: REDIRECT, code_verifier: fresh.verifier }, { id: other.appId, secret: other.clientSecret! }), 400, 'invalid_grant')
    // Refused to the other client, the code is spent for its own too: a probe burns it.
    expectOAuthError(await exchange(fresh), 400, 'invalid_grant')
  })

  it('a wrong or missing code_verifier, or another redirect_uri at the token endpoint, is refused', async () => {
    const c = await code()
    const { verifier: wrong } = await pkce()
    expectOAuthError(await exchange(c, { code_verifier: wrong }), 400, 'invalid_grant')
    const d = await code()
    expectOAuthError(await token({ grant_type: 'authorization_code', code: d.code, redirect_uri: REDIRECT }), 400, 'invalid_request')
    const e = await code()
    expectOAuthError(await exchange(e, { redirect_uri: 'http://localhost:8765/cb' }), 400, 'invalid_grant')
  })

  it('authorization requests without PKCE, with plain PKCE, another response_type or an unknown scope are redirected back with the error and state', async () => {
    const { challenge } = await pkce()
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'massprovisioning superpowers' }, 'invalid_scope'],
    ]
    for (const [over, error] of cases) {
      const res = await app.inject({ method: 'GET', url: authorizeUrl(goodParams(challenge, over)) })
      expect(res.statusCode).toBe(302)
      const location = new URL(String(res.headers.location))
      expect(location.origin + location.pathname).toBe(REDIRECT)
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ error, state: 'xyz', iss: ISSUER })
      refused++
    }
  })

  it('open-redirect attempts: an unknown client, an unregistered URI, or a registered one with an extra path, query or port get an error page and no Location', async () => {
    const { challenge } = await pkce()
    const attempts = [
      { client_id: '0123456789abcdef01234567' },
      { client_id: 'not-an-id' },
      { redirect_uri: 'https://evil.example/cb' },
      { redirect_uri: `${REDIRECT}/extra` },
      { redirect_uri: `${REDIRECT}?next=https://evil.example` },
      { redirect_uri: 'https://client.example/cb#frag' },
      { redirect_uri: 'https://client.example:8443/cb' },
      { redirect_uri: 'http://localhost:8766/cb' },
      { redirect_uri: undefined },
      { redirect_uri: 'https://other.example/cb' },
    ]
    for (const over of attempts) {
      const res = await app.inject({ method: 'GET', url: authorizeUrl(goodParams(challenge, { ...over, response_type: 'token' })) })
      expect(res.statusCode).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.body).toMatch(/client_id|redirect_uri/)
      expect(res.body).not.toContain('evil.example')
      refused++
    }
  })

  it('the forms are bound to the browser that opened the flow (CSRF): without its cookie nothing is signed in or consented', async () => {
    const { challenge } = await pkce()
    const victim = new Browser(app)
    const page = await victim.request('GET', authorizeUrl(goodParams(challenge)))
    const form = Browser.form(page.body)
    const attacker = new Browser(app)
    const signIn = await attacker.request('POST', form.action, { ...form.fields, login_email: suite.world.adminA.email, password: PASSWORD })
    expect(refusedAs(signIn.statusCode)).toBe(400)
    expect(signIn.body).not.toContain('<form')

    const cookie = [...victim.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const asJson = await app.inject({ method: 'POST', url: form.action, headers: { cookie }, payload: { ...form.fields, login_email: suite.world.adminA.email, password: PASSWORD } })
    expect(refusedAs(asJson.statusCode)).toBe(415)

    const consentPage = await victim.request('POST', form.action, { ...form.fields, login_email: suite.world.adminA.email, password: PASSWORD })
    const consent = Browser.form(consentPage.body)
    const forged = await attacker.request('POST', consent.action, { ...consent.fields, decision: 'allow' })
    expect(refusedAs(forged.statusCode)).toBe(400)
    expect(forged.headers.location).toBeUndefined()
    const real = await victim.request('POST', consent.action, { ...consent.fields, decision: 'allow' })
    expect(real.statusCode).toBe(303)
    const again = await victim.request('POST', consent.action, { ...consent.fields, decision: 'allow' })
    expect(refusedAs(again.statusCode)).toBe(400)
  })

  it('brute force on the sign-in page: the per-login backoff holds it, with the same words for an existing and an unknown login', async () => {
    const { challenge } = await pkce()
    const browser = new Browser(app)
    const page = await browser.request('GET', authorizeUrl(goodParams(challenge)))
    const form = Browser.form(page.body)
    const attempt = async (login: string) => {
      const res = await browser.request('POST', form.action, { ...form.fields, login_email: login, password: 'wrong-password' })
      const message = /<p class="error" role="alert">([^<]*)<\/p>/.exec(res.body)?.[1]
      return { status: res.statusCode, message, retryAfter: res.headers['retry-after'] }
    }
    for (const login of [suite.world.userB.email, 'nobody-at-all@example.com']) {
      const answers = []
      for (let i = 0; i < 5; i++) answers.push(await attempt(login))
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([401, 401, 401])
      expect(new Set(answers.slice(0, 3).map((a) => a.message))).toEqual(new Set(['Invalid login or password.']))
      expect(answers.slice(3).map((a) => a.status)).toEqual([429, 429])
      expect(answers[3]!.message).toMatch(/^Too many failed sign-ins for this login; try again in \d+ s\.$/)
      expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(0)
      refused += 5
    }
    // Held even with the right password, and shared with GET /login.
    const held = await browser.request('POST', form.action, { ...form.fields, login_email: suite.world.userB.email, password: PASSWORD })
    expect(refusedAs(held.statusCode)).toBe(429)
    const api = await app.inject({ method: 'GET', url: '/api/rainbow/authentication/v1.0/login', headers: { authorization: basic(suite.world.userB.email, PASSWORD) } })
    expect(refusedAs(api.statusCode)).toBe(429)
  })

  it('logout ends the user\'s refresh tokens: a refresh afterwards is refused', async () => {
    const tokens = await tokensOf(await code(suite.world.orgAdmin.email))
    const res = await app.inject({ method: 'GET', url: LOGOUT, headers: bearer(tokens.access_token) })
    expect(res.json()).toEqual({ status: 'logged out' })
    expect(refusedAs(await status(tokens.access_token))).toBe(401)
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant')
  })

  it('a new password set by an administrator (the CSV update path) ends the user\'s refresh and access tokens', async () => {
    const tokens = await tokensOf(await code(suite.world.adminB.email))
    expect(await status(tokens.access_token)).toBe(200)
    await suite.tdb.db.transaction((tx) => updateProvisionedUsers(tx, [{ id: suite.world.adminB.id, fields: {}, passwordHash: null }]))
    expect(await status(tokens.access_token)).toBe(200)
    const hash = await hashPassword(PASSWORD)
    await suite.tdb.db.transaction((tx) => updateProvisionedUsers(tx, [{ id: suite.world.adminB.id, fields: {}, passwordHash: hash }]))
    expect(refusedAs(await status(tokens.access_token))).toBe(401)
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant')
  })

  it('a deleted user\'s tokens stop working at once', async () => {
    const tokens = await tokensOf(await code(suite.world.plainUser.email))
    // A plain user's token is valid but holds no admin rights (D12).
    expect(refusedAs(await status(tokens.access_token))).toBe(403)
    await softDeleteUsers(suite.tdb.db, [suite.world.plainUser.id])
    const res = await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(tokens.access_token) })
    expect(refusedAs(res.statusCode)).toBe(401)
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant')
  })

  it('an access token of company A\'s admin is refused on company B\'s data', async () => {
    const tokens = await tokensOf(await code())
    const res = await app.inject({ method: 'GET', url: `${ADMIN_USERS}?companyId=${suite.world.companyB}`, headers: bearer(tokens.access_token) })
    expect(refusedAs(res.statusCode)).toBe(403)
    const imports = await app.inject({ method: 'GET', url: `${IMPORTS}?companyId=${suite.world.companyB}`, headers: bearer(tokens.access_token) })
    expect(refusedAs(imports.statusCode)).toBe(403)
  })

  it('forged OAuth access tokens (alg none, HS512 with the right key) are 401', async () => {
    const genuine = (await tokensOf(await code())).access_token
    const claims = JSON.parse(Buffer.from(genuine.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
    for (const forged of [craftJwt({ alg: 'none', typ: 'JWT' }, claims, null), craftJwt({ alg: 'HS512', typ: 'JWT' }, claims, TEST_JWT_SECRET), craftJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: `${TEST_ISSUER}-x` }, TEST_JWT_SECRET)]) {
      expect(refusedAs(await status(forged))).toBe(401)
    }
    expect(await status(genuine)).toBe(200)
  })

  it('token endpoint errors in RFC 6749\'s shape: bad client, grant type, parameters', async () => {
    const bad = await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { id: client.appId, secret: 'wrong' })
    expectOAuthError(bad, 401, 'invalid_client')
    expect(bad.headers['www-authenticate']).toMatch(/^Basic realm=/)
    expect(bad.headers['cache-control']).toBe('no-store')
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: client.appId }, null), 401, 'invalid_client')
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nope', client_secret: 'x' }, null), 401, 'invalid_client')
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'x', client_secret: client.clientSecret! }), 400, 'invalid_request')
    expectOAuthError(await token({ refresh_token: 'x' }), 400, 'invalid_request')
    expectOAuthError(await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }), 400, 'unsupported_grant_type')
    expectOAuthError(await token({ grant_type: 'client_credentials' }), 400, 'unauthorized_client')
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'never-issued' }), 400, 'invalid_grant')
    const repeated = await app.inject({
      method: 'POST', url: `${OAUTH}/token`, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.appId, client.clientSecret!) }, payload: 'grant_type=refresh_token&grant_type=authorization_code',
    })
    expectOAuthError(repeated, 400, 'invalid_request')
    const json = await app.inject({ method: 'POST', url: `${OAUTH}/token`, headers: { authorization: basic(client.appId, client.clientSecret!) }, payload: { grant_type: 'refresh_token', refresh_token: 'x' } })
    expectOAuthError(json, 400, 'invalid_request')
    expect(json.json()).toMatchObject({ error_description: 'the body must be application/x-www-form-urlencoded' })
    const tokens = await tokensOf(await code())
    expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'massprovisioning superpowers' }), 400, 'invalid_scope')
    // A refused scope does not spend the refresh token.
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).statusCode).toBe(200)
  })
})
