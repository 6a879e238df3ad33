import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { buildTestApp, OPERATOR, TEST_JWT_SECRET, TEST_METRICS_TOKEN, TEST_SECRETS_KEY, type TestApp } from '../helpers/app.js'

describe('error envelope, health and readiness', () => {
  let tdb: TestDb
  let app: TestApp

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    app = await buildApp({ db: tdb.db, config: { JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, JWT_TTL: 3600, JWT_ISSUER: 'massprov', REQUIRE_APP_AUTH: false, METRICS_TOKEN: TEST_METRICS_TOKEN } })
    app.get('/boom', async () => { throw new Error('secret internal detail: relation "users" at 10.1.2.3') })
    app.post('/echo', async (request) => ({ got: request.body }))
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  it('an unknown route is a 404 in the Rainbow envelope', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/rainbow/massprovisioning/v1.0/nope?x=1' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ errorCode: 404, errorMsg: 'Not Found', errorDetails: 'Route GET /api/rainbow/massprovisioning/v1.0/nope not found', errorDetailsCode: 404001 })
  })

  it('a 500 says nothing internal and gives the request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-rainbow-correlation-id': 'corr-123' } })
    expect(res.statusCode).toBe(500)
    const body = res.json()
    expect(body).toMatchObject({ errorCode: 500, errorMsg: 'Internal Server Error', errorDetailsCode: 500000 })
    expect(body.errorDetails).toContain('corr-123')
    expect(res.body).not.toContain('secret internal detail')
  })

  it('a malformed JSON body is a 400 in the envelope', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{nope' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ errorCode: 400, errorMsg: 'Bad Request', errorDetailsCode: 400001 })
  })

  it('a JSON body over the default 1 MB limit is a 413 in the envelope', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(1024 * 1024 + 10) }) })
    expect(res.statusCode).toBe(413)
    expect(res.json()).toMatchObject({ errorCode: 413, errorDetailsCode: 413000 })
  })

  it('about answers a bare {version, description}', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/rainbow/massprovisioning/v1.0/about' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(Object.keys(body).sort()).toEqual(['description', 'version'])
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('health is 200; ready is 200 with the database check and 503 when a dependency fails', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/ready', headers: OPERATOR })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().checks).toEqual([{ name: 'database', ok: true }])

    const down = await buildTestApp(tdb.db, { checks: [{ name: 'queue', check: () => Promise.reject(new Error('connection refused')) }] })
    try {
      const res = await down.inject({ method: 'GET', url: '/ready', headers: OPERATOR })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toMatchObject({ status: 'unavailable', checks: [{ name: 'database', ok: true }, { name: 'queue', ok: false, error: 'connection refused' }] })
    } finally {
      await down.close()
    }
  })
})
