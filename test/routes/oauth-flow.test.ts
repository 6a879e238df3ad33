import { beforeAll, afterAll, describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import { dbKinds } from '../helpers/databases.js'
import { bearer, buildTestApp, TEST_ISSUER, type TestApp } from '../helpers/app.js'
import { PASSWORD, useWorld } from '../helpers/fixtures.js'
import { authorizationUrl, Browser, discover, ISSUER, libOptions, OAUTH, pkce } from '../helpers/oauth.js'
import { createApplicationService, type CreatedApplication } from '../../src/services/applications.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'

const REDIRECT = 'https://client.example/cb'
const LOOPBACK = 'http://127.0.0.1:53682/callback'
const ADMIN_USERS = '/api/rainbow/admin/v1.0/users'
const IMPORTS = '/api/rainbow/massprovisioning/v1.0/users/imports'

const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>

describe.each(dbKinds())('OAuth 2.0 authorization-code flow, driven by oauth4webapi, on %s', (kind) => {
  const suite = useWorld(kind)
  let app: TestApp
  let as: oauth.AuthorizationServer
  let confidential: CreatedApplication
  let publicApp: CreatedApplication

  beforeAll(async () => {
    app = await buildTestApp(suite.tdb.db, { PUBLIC_URL: ISSUER })
    const apps = createApplicationService({ db: suite.tdb.db, secretsKey: deriveSecretsKey(TEST_JWT_SECRET) })
    confidential = await apps.create('Provisioning Portal', { redirectUris: [REDIRECT] })
    publicApp = await apps.create('Desktop Tool', { redirectUris: [LOOPBACK], public: true })
    as = await discover(app)
  })
  afterAll(async () => {
    await app?.close()
  })

  /** The whole dance as a client application does it: authorization URL, pages, callback, code exchange. */
  async function obtainTokens (client: oauth.Client, auth: oauth.ClientAuth, redirectUri: string, email: string, scope?: string) {
    const { verifier, challenge } = await pkce()
    const state = oauth.generateRandomState()
    const url = authorizationUrl(as, {
      client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', state, code_challenge: challenge, code_challenge_method: 'S256', ...(scope ? { scope } : {}),
    })
    const callback = await new Browser(app).authorize(url, email, PASSWORD)
    const params = oauth.validateAuthResponse(as, client, callback, state)
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, libOptions(app))
    expect(res.headers.get('cache-control')).toBe('no-store')
    return oauth.processAuthorizationCodeResponse(as, client, res)
  }

  it('publishes RFC 8414 metadata: S256 only, code only, the issuer it is reached at', async () => {
    expect(as.issuer).toBe(ISSUER)
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    expect(as.response_types_supported).toEqual(['code'])
    expect(as.token_endpoint).toBe(`${ISSUER}${OAUTH}/token`)
    expect(as.revocation_endpoint).toBe(`${ISSUER}${OAUTH}/revoke`)
    expect(as.authorization_response_iss_parameter_supported).toBe(true)
  })

  it('a confidential client (client_secret_basic) gets a Bearer JWT that the massprovisioning routes accept, held to the admin\'s company', async () => {
    const client = { client_id: confidential.appId }
    const tokens = await obtainTokens(client, oauth.ClientSecretBasic(confidential.clientSecret!), REDIRECT, suite.world.adminA.email)
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.expires_in).toBe(3600)
    expect(tokens.scope).toBe('massprovisioning massprovisioning:read')
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const claims = decode(tokens.access_token)
    expect(claims).toMatchObject({ sub: suite.world.adminA.id, iss: TEST_ISSUER, client_id: confidential.appId, scope: 'massprovisioning massprovisioning:read', app: { id: confidential.appId } })
    expect(claims.exp).toEqual(expect.any(Number))

    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(tokens.access_token) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: `${ADMIN_USERS}?companyId=${suite.world.companyA}`, headers: bearer(tokens.access_token) })).statusCode).toBe(200)
    const other = await app.inject({ method: 'GET', url: `${ADMIN_USERS}?companyId=${suite.world.companyB}`, headers: bearer(tokens.access_token) })
    expect(other.statusCode).toBe(403)
    expect(other.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403001 })
  })

  it('client_secret_post works, and a public client proves itself by PKCE alone (no secret, loopback redirect)', async () => {
    const post = await obtainTokens({ client_id: confidential.appId }, oauth.ClientSecretPost(confidential.clientSecret!), REDIRECT, suite.world.adminA.email)
    expect(post.access_token).toBeTruthy()
    const pub = await obtainTokens({ client_id: publicApp.appId }, oauth.None(), LOOPBACK, suite.world.orgAdmin.email)
    expect(decode(pub.access_token)).toMatchObject({ client_id: publicApp.appId, sub: suite.world.orgAdmin.id })
    expect(publicApp.clientSecret).toBeUndefined()
    expect((await app.inject({ method: 'GET', url: `${ADMIN_USERS}?companyId=${suite.world.companyB}`, headers: bearer(pub.access_token) })).statusCode).toBe(200)
  })

  it('refresh tokens rotate; a rotated one presented again revokes the whole family, access tokens included', async () => {
    const client = { client_id: confidential.appId }
    const auth = oauth.ClientSecretBasic(confidential.clientSecret!)
    const first = await obtainTokens(client, auth, REDIRECT, suite.world.adminA.email)
    const second = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, first.refresh_token!, libOptions(app)))
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(decode(second.access_token).sid).toBe(decode(first.access_token).sid)
    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(second.access_token) })).statusCode).toBe(200)

    const replay = oauth.refreshTokenGrantRequest(as, client, auth, first.refresh_token!, libOptions(app))
      .then((res) => oauth.processRefreshTokenResponse(as, client, res))
    await expect(replay).rejects.toMatchObject({ error: 'invalid_grant' })
    for (const token of [first.access_token, second.access_token]) {
      const res = await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(token) })
      expect(res.statusCode).toBe(401)
      expect(res.json().errorDetails).toMatch(/OAuth grant was revoked/)
    }
    const afterward = oauth.refreshTokenGrantRequest(as, client, auth, second.refresh_token!, libOptions(app))
      .then((res) => oauth.processRefreshTokenResponse(as, client, res))
    await expect(afterward).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('a refresh may narrow the scope; the narrowed token reads but may not import', async () => {
    const client = { client_id: confidential.appId }
    const auth = oauth.ClientSecretBasic(confidential.clientSecret!)
    const first = await obtainTokens(client, auth, REDIRECT, suite.world.adminA.email)
    const read = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, first.refresh_token!, { ...libOptions(app), additionalParameters: { scope: 'massprovisioning:read' } }))
    expect(read.scope).toBe('massprovisioning:read')
    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(read.access_token) })).statusCode).toBe(200)
    const write = await app.inject({ method: 'POST', url: `${IMPORTS}/check`, headers: { ...bearer(read.access_token), 'content-type': 'text/csv' }, payload: 'loginEmail\nx@example.com\n' })
    expect(write.statusCode).toBe(403)
    expect(write.json()).toMatchObject({ errorDetailsCode: 403003 })
  })

  it('RFC 7009 revocation: a refresh token ends its family, an access token its own jti, an unknown token is a 200', async () => {
    const client = { client_id: publicApp.appId }
    const tokens = await obtainTokens(client, oauth.None(), LOOPBACK, suite.world.adminA.email)
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.refresh_token!, libOptions(app)))
    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(tokens.access_token) })).statusCode).toBe(401)

    const more = await obtainTokens(client, oauth.None(), LOOPBACK, suite.world.adminA.email)
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), more.access_token, libOptions(app)))
    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(more.access_token) })).statusCode).toBe(401)
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), more.refresh_token!, libOptions(app)))
    expect((await app.inject({ method: 'GET', url: IMPORTS, headers: bearer(refreshed.access_token) })).statusCode).toBe(200)

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), 'no-such-token', libOptions(app)))
  })

  it('the pages: CSP without script or inline style, framing refused, not cached, only our own stylesheet', async () => {
    const { challenge } = await pkce()
    const browser = new Browser(app)
    const page = await browser.request('GET', authorizationUrl(as, { client_id: confidential.appId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }).toString())
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toMatch(/script-src|unsafe-inline/)
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.body).not.toMatch(/<script|style=|https?:\/\/(?!client\.example)/)
    expect(page.body).toContain('Provisioning Portal')
    const cookie = [...browser.cookies.keys()][0]
    expect(String(page.headers['set-cookie'])).toMatch(new RegExp(`${cookie}=[^;]+; Max-Age=600; Path=${OAUTH}; HttpOnly; SameSite=Lax`))

    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(page.body)![1]!
    const css = await app.inject({ method: 'GET', url: href })
    expect(css.statusCode).toBe(200)
    expect(css.headers['content-type']).toMatch(/^text\/css/)

    const consent = await browser.request('POST', Browser.form(page.body).action, { ...Browser.form(page.body).fields, login_email: suite.world.adminA.email, password: PASSWORD })
    expect(consent.body).toContain('Provisioning Portal')
    expect(consent.body).toContain(suite.world.adminA.email)
    expect(String(consent.headers['content-security-policy'])).toContain("form-action 'self' https://client.example")
  })

  it('a denial at the consent page goes back with access_denied and the state', async () => {
    const { challenge } = await pkce()
    const url = authorizationUrl(as, { client_id: confidential.appId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1' })
    const callback = await new Browser(app).authorize(url, suite.world.adminA.email, PASSWORD, 'deny')
    expect(callback.origin + callback.pathname).toBe(REDIRECT)
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: 'access_denied', state: 'st-1', iss: ISSUER })
    expect(callback.searchParams.has('code')).toBe(false)
  })
})
