import { Writable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { basic, bearer, login, TEST_ISSUER, TEST_JWT_SECRET, TEST_SECRETS_KEY, type TestApp } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { report } from '../helpers/reliability.js'

const LOGIN = '/api/rainbow/authentication/v1.0/login'
const USERS = '/api/rainbow/admin/v1.0/users'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('response headers and the correlation id', () => {
  let tdb: TestDb
  let world: World
  let app: TestApp
  const lines: string[] = []

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
    const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
    app = await buildApp({
      db: tdb.db,
      config: { JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, JWT_TTL: 3600, JWT_ISSUER: TEST_ISSUER, REQUIRE_APP_AUTH: false },
      logger: createLogger({ level: 'info' }, stream),
    })
    app.get('/boom', async () => { throw new Error('internal detail') })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  let checked = 0
  afterEach(({ task }) => {
    report(task, { checked })
    checked = 0
  })

  it('a safe correlation id is kept: response header, 500 body and log lines', async () => {
    const id = 'Sdk.corr-01:AbC_9'
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-rainbow-correlation-id': id } })
    expect(res.statusCode).toBe(500)
    expect(res.headers['x-rainbow-correlation-id']).toBe(id)
    expect(res.json().errorDetails).toBe(`Internal error (request id ${id})`)
    expect(lines.map((l) => JSON.parse(l) as { reqId?: string }).filter((e) => e.reqId === id).length).toBeGreaterThan(0)
    checked++
  })

  it('an unsafe correlation id (CRLF, over 64 characters, unicode, spaces, empty) is replaced by a generated one everywhere', async () => {
    const unsafe = [
      'abc\r\nx-injected: 1',
      'a'.repeat(65),
      'café-☕',
      'has space',
      'quote"and<tag>',
      '',
    ]
    for (const sent of unsafe) {
      lines.length = 0
      const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-rainbow-correlation-id': sent } })
      expect(res.statusCode).toBe(500)
      const id = res.headers['x-rainbow-correlation-id']
      expect(id).toMatch(UUID)
      expect(res.headers['x-injected']).toBeUndefined()
      expect(res.json().errorDetails).toBe(`Internal error (request id ${id})`)
      const logged = lines.map((l) => JSON.parse(l) as { reqId?: string })
      expect(logged.length).toBeGreaterThan(0)
      expect(logged.every((e) => e.reqId === id)).toBe(true)
      if (sent) expect(lines.join('\n')).not.toContain(sent)
      checked++
    }
  })

  it('a correlation id sent twice is replaced (the joined value is not one id)', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-rainbow-correlation-id': ['one', 'two'] } })
    expect(res.headers['x-rainbow-correlation-id']).toMatch(UUID)
    checked++
  })

  it('X-Content-Type-Options: nosniff on 200, 401, 404, 500 and CSV answers', async () => {
    const token = await login(app, world.adminA.email, PASSWORD)
    const answers = [
      await app.inject({ method: 'GET', url: '/health' }),
      await app.inject({ method: 'GET', url: USERS, headers: bearer(token) }),
      await app.inject({ method: 'GET', url: USERS }),
      await app.inject({ method: 'GET', url: '/nope' }),
      await app.inject({ method: 'GET', url: '/boom' }),
      await app.inject({ method: 'GET', url: '/api/rainbow/massprovisioning/v1.0/users/template?mode=user', headers: bearer(token) }),
    ]
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 401, 404, 500, 200])
    for (const res of answers) {
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      checked++
    }
  })

  it('login answers, successful or not, say Cache-Control: no-store', async () => {
    const ok = await app.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD) } })
    expect(ok.statusCode).toBe(200)
    expect(ok.json().token).toBeTypeOf('string')
    const refused = await app.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminB.email, 'Wrong1!pass') } })
    expect(refused.statusCode).toBe(401)
    for (const res of [ok, refused]) {
      expect(res.headers['cache-control']).toBe('no-store')
      checked++
    }
  })

  it('/docs and its assets carry a strict Content-Security-Policy without inline script or style', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    expect(page.statusCode).toBe(200)
    const assets = [...page.body.matchAll(/(?:src|href)="\.\/(static\/[^"]+)"/g)].map((m) => m[1]!)
    expect(assets).toEqual(expect.arrayContaining(['static/swagger-ui-bundle.js', 'static/swagger-initializer.js', 'static/swagger-ui.css']))
    expect(page.body).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i)
    for (const res of [page, ...await Promise.all(assets.map((a) => app.inject({ method: 'GET', url: `/docs/${a}` })))]) {
      expect(res.statusCode).toBe(200)
      const csp = String(res.headers['content-security-policy'])
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self';")
      expect(csp).toContain("style-src 'self';")
      expect(csp).toContain("connect-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      checked++
    }
  })
})
