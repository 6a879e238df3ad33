import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, login, OPERATOR, type TestApp } from '../helpers/app.js'
import { intercepting, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { report } from '../helpers/reliability.js'

// Issue 13 item 4: what anonymous callers see of the operational side. /ready tells anyone up or
// down; its details (the XMPP account, its last error, the outbox backlog) and /metrics need a
// superadmin's token or METRICS_TOKEN. A scrape's database reads do not grow with the scrapes.

describe('/ready and /metrics: for operators only', () => {
  let tdb: TestDb
  let world: World
  let app: TestApp
  const tokens = { adminA: '', superadmin: '' }
  const withDetail = [{ name: 'xmpp', check: async () => 'online as svc@xmpp.example: 3 notifications waiting' }]

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
    app = await buildTestApp(tdb.db, { checks: withDetail })
    for (const who of ['adminA', 'superadmin'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const ready = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/ready', headers })
  const metrics = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/metrics', headers })

  it('/ready: anonymous, a company admin and a wrong token get {status} only; METRICS_TOKEN and a superadmin get the checks', async () => {
    for (const headers of [{}, bearer(tokens.adminA), bearer('not-the-metrics-token-not-the-metrics-token'), bearer('a.b.c')]) {
      const res = await ready(headers)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ status: 'ready' })
      expect(res.body).not.toContain('svc@xmpp.example')
    }
    for (const headers of [OPERATOR, bearer(tokens.superadmin)]) {
      const res = await ready(headers)
      expect(res.json()).toEqual({ status: 'ready', checks: [{ name: 'database', ok: true }, { name: 'xmpp', ok: true, detail: 'online as svc@xmpp.example: 3 notifications waiting' }] })
    }
  })

  it('/ready: down is still told to anyone (503), without saying why', async () => {
    const down = await buildTestApp(tdb.db, { checks: [{ name: 'queue', check: () => Promise.reject(new Error('redis at 10.1.2.3:6379 refused')) }] })
    try {
      const res = await down.inject({ method: 'GET', url: '/ready' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ status: 'unavailable' })
      expect((await down.inject({ method: 'GET', url: '/ready', headers: OPERATOR })).json().checks[1]).toEqual({ name: 'queue', ok: false, error: 'redis at 10.1.2.3:6379 refused' })
    } finally {
      await down.close()
    }
  })

  it('/metrics: 401 without a credential or with a bad one, 403 for a company admin, 200 for METRICS_TOKEN and a superadmin', async () => {
    const anonymous = await metrics()
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json()).toMatchObject({ errorCode: 401, errorDetailsCode: 401500 })
    expect((await metrics(bearer('not-the-metrics-token-not-the-metrics-token'))).statusCode).toBe(401)
    const admin = await metrics(bearer(tokens.adminA))
    expect(admin.statusCode).toBe(403)
    expect(admin.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403002 })
    expect(admin.body).not.toContain('massprov_imports')
    for (const headers of [OPERATOR, bearer(tokens.superadmin)]) {
      const res = await metrics(headers)
      expect(res.statusCode).toBe(200)
      expect(res.body).toMatch(/massprov_imports\{status="Pending"\} \d+/)
    }
  })

  it('/metrics without METRICS_TOKEN configured: only a superadmin\'s token reads it', async () => {
    const bare = await buildTestApp(tdb.db, { METRICS_TOKEN: undefined })
    try {
      expect((await bare.inject({ method: 'GET', url: '/metrics', headers: OPERATOR })).statusCode).toBe(401)
      expect((await bare.inject({ method: 'GET', url: '/metrics', headers: bearer(tokens.superadmin) })).statusCode).toBe(200)
    } finally {
      await bare.close()
    }
  })

  it('reads the whole-table aggregates once per METRICS_CACHE_S however many scrapes arrive, and again after it', async ({ task }) => {
    let aggregates = 0
    const counted = intercepting(tdb.db, (sql, run) => {
      if (/FROM imports GROUP BY status/.test(sql)) aggregates++
      return run()
    })
    const cachedApp = await buildTestApp(counted, { METRICS_CACHE_S: 1 })
    try {
      const scrapes = await Promise.all(Array.from({ length: 50 }, () => cachedApp.inject({ method: 'GET', url: '/metrics', headers: OPERATOR })))
      expect(scrapes.every((r) => r.statusCode === 200)).toBe(true)
      expect(aggregates).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      await cachedApp.inject({ method: 'GET', url: '/metrics', headers: OPERATOR })
      expect(aggregates).toBe(2)
      report(task, { scrapes: 51, aggregateReads: aggregates })
    } finally {
      await cachedApp.close()
    }
  })
})
