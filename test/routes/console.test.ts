import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { CONSOLE_CSP } from '../../src/routes/console.js'
import { CONSOLE_CLIENT_ID } from '../../src/services/console-client.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { TEST_JWT_SECRET, TEST_SECRETS_KEY } from '../helpers/app.js'

// The console's files as the server serves them (src/routes/console.ts), from a build folder of the test's own.
describe('GET /console', () => {
  const root = mkdtempSync(join(tmpdir(), 'massprov-console-build-'))
  const empty = mkdtempSync(join(tmpdir(), 'massprov-console-none-'))
  let testDb: TestDb
  const build = (consoleRoot: string) => buildApp({
    db: testDb.db,
    config: { JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, JWT_TTL: 3600, JWT_ISSUER: 'massprov', REQUIRE_APP_AUTH: false },
    console: { root: consoleRoot, redirectUris: () => ['http://127.0.0.1:8080/console/'] },
  })
  let app: Awaited<ReturnType<typeof build>>
  let unbuilt: Awaited<ReturnType<typeof build>>

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'))
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/index-AbCd1234.js"></script>')
    writeFileSync(join(root, 'assets/index-AbCd1234.js'), 'console.log(1)\n')
    testDb = await openTestDb('pglite')
    app = await build(root)
    unbuilt = await build(empty)
  })

  afterAll(async () => {
    await app.close()
    await unbuilt.close()
    await testDb.close()
    rmSync(root, { recursive: true, force: true })
    rmSync(empty, { recursive: true, force: true })
  })

  it('answers index.html, never cached, under a CSP with no inline script or style', async () => {
    for (const url of ['/console', '/console/', '/console/reports/abc', '/console/imports/x/progress']) {
      const res = await app.inject({ url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP)
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(res.body).toContain('/console/assets/index-AbCd1234.js')
    }
    expect(CONSOLE_CSP).toContain("script-src 'self';")
    expect(CONSOLE_CSP).toContain("style-src 'self';")
    expect(CONSOLE_CSP).not.toContain('unsafe-inline')
  })

  it('answers the new index.html once the console is built again, without a restart', async () => {
    const file = join(root, 'index.html')
    const before = readFileSync(file, 'utf8')
    try {
      writeFileSync(file, '<!doctype html><title>console</title><script type="module" src="/console/assets/index-NeW56789.js"></script>')
      utimesSync(file, new Date(), new Date(Date.now() + 5000))
      expect((await app.inject({ url: '/console/' })).body).toContain('index-NeW56789.js')
    } finally {
      writeFileSync(file, before)
      utimesSync(file, new Date(), new Date(Date.now() + 10_000))
    }
    expect((await app.inject({ url: '/console/' })).body).toContain('index-AbCd1234.js')
  })

  it('serves hashed assets as immutable for a year, and a missing asset is a 404, not the page', async () => {
    const res = await app.inject({ url: '/console/assets/index-AbCd1234.js' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP)
    expect(res.body).toBe('console.log(1)\n')
    const missing = await app.inject({ url: '/console/assets/index-Gone0000.js' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ errorCode: 404 })
    expect((await app.inject({ url: '/console/assets/../../package.json' })).body).not.toContain('"dependencies"')
  })

  it('tells the page its OAuth client_id and redirect URIs', async () => {
    const res = await app.inject({ url: '/console/config.json' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ clientId: CONSOLE_CLIENT_ID, redirectUris: ['http://127.0.0.1:8080/console/'] })
  })

  it('leaves the API\'s answers without the console\'s CSP', async () => {
    const res = await app.inject({ url: '/api/rainbow/massprovisioning/v1.0/about' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-security-policy']).toBeUndefined()
  })

  it('says how to build the console when it is not built (503)', async () => {
    const res = await unbuilt.inject({ url: '/console/' })
    expect(res.statusCode).toBe(503)
    expect(res.body).toContain('npm run build')
  })
})
