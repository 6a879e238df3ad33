import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgres } from '../../src/db/postgres.js'
import { buildTestApp, bearer, TEST_ISSUER, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js'
import { craftJwt } from '../helpers/jwt.js'
import { report } from '../helpers/reliability.js'

// PostgreSQL not answering (nothing listens on the port): every route that needs it answers 503 in the
// Rainbow envelope at once, never a 500 and never a hang. No database server is needed for this test.

describe('database unavailable', () => {
  let app: TestApp
  const db = openPostgres('postgres://root@127.0.0.1:9/massprov', { poolSize: 2, logger: pino({ level: 'silent' }) })
  const now = Math.floor(Date.now() / 1000)
  const token = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: '0123456789abcdef01234567', jti: 'j-down', iss: TEST_ISSUER, iat: now, exp: now + 600 }, TEST_JWT_SECRET)

  beforeAll(async () => { app = await buildTestApp(db) })
  afterAll(async () => {
    await app?.close()
    await db.close()
  })

  it.for([
    ['GET', '/api/rainbow/massprovisioning/v1.0/users/imports', undefined],
    ['POST', '/api/rainbow/massprovisioning/v1.0/users/imports', '__action__;loginEmail\ncreate;a@example.com\n'],
    ['POST', '/api/rainbow/massprovisioning/v1.0/users/imports/check', '__action__;loginEmail\ncreate;a@example.com\n'],
  ] as const)('%s %s → 503 envelope within seconds', async ([method, url, payload], { task }) => {
    const started = Date.now()
    const res = await app.inject({ method: method as 'GET' | 'POST', url, headers: { ...bearer(token), 'content-type': 'text/csv' }, ...(payload ? { payload } : {}) })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ errorCode: 503, errorMsg: 'Service Unavailable', errorDetails: 'The database is unavailable', errorDetailsCode: 503000 })
    const answerMs = Date.now() - started
    expect(answerMs).toBeLessThan(6000)
    report(task, { answerMs })
  })

  it('/ready says so with 503, /health stays up', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    const ready = await app.inject({ method: 'GET', url: '/ready' })
    expect(ready.statusCode).toBe(503)
  })
})
