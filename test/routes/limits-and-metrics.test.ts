import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, bearer, buildTestApp, login, OPERATOR, type TestApp } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { report } from '../helpers/reliability.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const CSV = { 'content-type': 'text/csv' }

function userCsv (lines: number, tag: string): string {
  const rows = ['__action__;loginEmail;password;firstName;lastName']
  for (let i = 0; i < lines; i++) rows.push(`create;u${i}-${tag}@example.com;Passw0rd!x;First${i};Last${i}`)
  return rows.join('\n') + '\n'
}

describe('limits under load and metrics', () => {
  let tdb: TestDb
  let world: World

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  describe('rate limit', () => {
    let app: TestApp
    beforeAll(async () => { app = await buildTestApp(tdb.db, { RATE_LIMIT_MAX: 3, RATE_LIMIT_IP_MAX: 10, RATE_LIMIT_WINDOW: 60 }) })
    afterAll(async () => { await app?.close() })

    it('answers 429 in the Rainbow envelope with Retry-After once a user spends its budget, whichever of its tokens it uses; another user is unaffected', async ({ task }) => {
      const tokenA = await login(app, world.adminA.email, PASSWORD)
      const statuses: number[] = []
      let last
      for (let i = 0; i < 4; i++) {
        last = await app.inject({ method: 'GET', url: `${MP}/users/template?mode=user`, headers: bearer(tokenA) })
        statuses.push(last.statusCode)
      }
      expect(statuses).toEqual([200, 200, 200, 429])
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0)
      expect(last!.json()).toMatchObject({ errorCode: 429, errorMsg: 'Too Many Requests', errorDetailsCode: 429000 })
      expect(last!.json().errorDetails).toMatch(/Rate limit of 3 requests/)

      // A fresh token of the same user is the same budget: a new login is no way around it.
      const tokenA2 = await login(app, world.adminA.email, PASSWORD)
      const sameUser = await app.inject({ method: 'GET', url: `${MP}/users/template?mode=user`, headers: bearer(tokenA2) })
      expect(sameUser.statusCode).toBe(429)
      const tokenB = await login(app, world.adminB.email, PASSWORD)
      const other = await app.inject({ method: 'GET', url: `${MP}/users/template?mode=user`, headers: bearer(tokenB) })
      expect(other.statusCode).toBe(200)
      // Every request counts against the address (RATE_LIMIT_IP_MAX=10): nine so far, so one more login, then 429.
      const loginAgain = () => app.inject({ method: 'GET', url: '/api/rainbow/authentication/v1.0/login', headers: { authorization: basic(world.adminA.email, PASSWORD) } })
      expect((await loginAgain()).statusCode).toBe(200)
      const overAddress = await loginAgain()
      expect(overAddress.statusCode).toBe(429)
      expect(overAddress.json().errorDetails).toMatch(/Rate limit of 10 requests per client address/)
      report(task, { allowed: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 429).length, retryAfterS: Number(last!.headers['retry-after']) })
    })

    it('never limits /health, /ready or /metrics', async () => {
      for (let i = 0; i < 10; i++) {
        expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
      }
      expect((await app.inject({ method: 'GET', url: '/metrics', headers: OPERATOR })).statusCode).toBe(200)
    })
  })

  describe('caps', () => {
    let app: TestApp
    let token: string
    beforeAll(async () => {
      app = await buildTestApp(tdb.db, { MAX_CONCURRENT_CHECKS: 1, MAX_QUEUED_CHECKS: 1, MAX_PENDING_IMPORTS: 1 })
      token = await login(app, world.adminA.email, PASSWORD)
    })
    afterAll(async () => { await app?.close() })

    it('one check runs, one waits for the slot, the rest are turned away at once with 503 and Retry-After', async ({ task }) => {
      const body = userCsv(300, 'cap')
      const answers = await Promise.all(Array.from({ length: 4 }, () =>
        app.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers: { ...bearer(token), ...CSV }, payload: body })))
      const statuses = answers.map((a) => a.statusCode).sort()
      expect(statuses).toEqual([200, 200, 503, 503])
      report(task, { concurrent: answers.length, refused: statuses.filter((s) => s === 503).length })
      const busy = answers.find((a) => a.statusCode === 503)!
      expect(busy.headers['retry-after']).toBe('5')
      expect(busy.json()).toMatchObject({ errorCode: 503, errorDetailsCode: 503001 })
      // The slot is released after each answer: a later check runs.
      const again = await app.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers: { ...bearer(token), ...CSV }, payload: body })
      expect(again.statusCode).toBe(200)
    })

    it('with room in the queue every concurrent check waits its turn and answers', async ({ task }) => {
      const queued = await buildTestApp(tdb.db, { MAX_CONCURRENT_CHECKS: 1, MAX_QUEUED_CHECKS: 10 })
      try {
        const body = userCsv(200, 'queued')
        const answers = await Promise.all(Array.from({ length: 5 }, () =>
          queued.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers: { ...bearer(token), ...CSV }, payload: body })))
        expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200])
        report(task, { concurrent: answers.length, answered: answers.filter((a) => a.statusCode === 200).length })
      } finally {
        await queued.close()
      }
    })

    it('a company over its pending-import cap gets 429 naming the limit, and nothing is stored', async ({ task }) => {
      // No queue in this app: the first import stays Pending.
      const first = await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(token), ...CSV }, payload: userCsv(2, 'first') })
      expect(first.statusCode).toBe(200)
      const second = await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(token), ...CSV }, payload: userCsv(2, 'second') })
      expect(second.statusCode).toBe(429)
      expect(second.headers['retry-after']).toBe('30')
      expect(second.json().errorDetails).toMatch(/1 imports in progress \(limit 1\)/)
      const list = await app.inject({ method: 'GET', url: `${MP}/users/imports`, headers: bearer(token) })
      expect(list.json().data).toHaveLength(1)
      // Another company is not affected.
      const tokenB = await login(app, world.adminB.email, PASSWORD)
      const other = await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(tokenB), ...CSV }, payload: userCsv(2, 'b') })
      expect(other.statusCode).toBe(200)
      report(task, { retryAfterS: Number(second.headers['retry-after']), stored: list.json().data.length })
    })

    it('/metrics reports HTTP latency and the import and outbox figures from the database', async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: OPERATOR })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/text\/plain/)
      const text = res.body
      expect(text).toMatch(/massprov_http_request_duration_seconds_bucket\{[^}]*route="\/api\/rainbow\/massprovisioning\/v1.0\/users\/imports\/check"[^}]*status="200"/)
      expect(text).toMatch(/massprov_imports\{status="Pending"\} 2/)
      expect(text).toMatch(/massprov_queue_depth 2/)
      expect(text).toMatch(/massprov_outbox_backlog \d+/)
      expect(text).toMatch(/massprov_import_lines_processed 0/)
    })
  })
})
