import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, login, type TestApp } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { until } from '../helpers/raw-http.js'
import { report } from '../helpers/reliability.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const CSV = { 'content-type': 'text/csv' }

function userCsv (lines: number, tag: string): string {
  const rows = ['__action__;loginEmail;password;firstName;lastName']
  for (let i = 0; i < lines; i++) rows.push(`create;u${i}-${tag}@example.com;Passw0rd!x;First${i};Last${i}`)
  return rows.join('\n') + '\n'
}

/** A check whose upload stalls after a few bytes: it holds its slot until `finish`. */
async function holdCheckSlot (app: TestApp, token: string) {
  const body = new PassThrough()
  const answer = app.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers: { ...bearer(token), ...CSV, 'content-length': '100000' }, payload: body })
  body.write('__action__;loginEmail\n')
  await until(() => app.checkSlots.running === 1, 5000, 'the stalled check to hold its slot')
  return {
    finish: async () => {
      body.end()
      return answer
    },
  }
}

describe('security limits: authenticate, then scope, then spend; limits follow the route', () => {
  let tdb: TestDb
  let world: World

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  describe('one check slot, no queue', () => {
    let app: TestApp
    let adminA: string
    let adminB: string
    let plain: string
    beforeAll(async () => {
      app = await buildTestApp(tdb.db, { MAX_CONCURRENT_CHECKS: 1, MAX_QUEUED_CHECKS: 0 })
      adminA = await login(app, world.adminA.email, PASSWORD)
      adminB = await login(app, world.adminB.email, PASSWORD)
      plain = await login(app, world.plainUser.email, PASSWORD)
    })
    afterAll(async () => { await app?.close() })

    it('anonymous, forged, non-admin and out-of-scope callers get their 401/403 while the only slot is taken; an admin of the company gets the 503', async ({ task }) => {
      const holder = await holdCheckSlot(app, adminA)
      const check = (headers: Record<string, string>, query = '') =>
        app.inject({ method: 'POST', url: `${MP}/users/imports/check${query}`, headers: { ...headers, ...CSV }, payload: userCsv(2, 'order') })
      const refused = [
        await check({}),
        await check(bearer(adminA.replace(/\.[^.]+$/, '.forged-signature'))),
        await check(bearer(plain)),
        await check(bearer(adminA), `?companyId=${world.companyC}`),
      ]
      expect(refused.map((r) => r.statusCode)).toEqual([401, 401, 403, 403])
      for (const r of refused) expect(r.json()).toMatchObject({ errorCode: r.statusCode })
      const busy = await check(bearer(adminB))
      expect(busy.statusCode).toBe(503)
      expect((await holder.finish()).statusCode).toBe(400)
      const after = await check(bearer(adminB))
      expect(after.statusCode).toBe(200)
      report(task, { refusedBeforeSlot: refused.length, busyForAdmins: 1 })
    })

    it('a check naming a company outside the caller\'s scope is refused before its body is read', async () => {
      const body = new PassThrough()
      const answer = app.inject({ method: 'POST', url: `${MP}/users/imports/check?companyId=${world.companyC}`, headers: { ...bearer(adminA), ...CSV, 'content-length': '100000' }, payload: body })
      body.write('__action__;loginEmail\n')
      const res = await answer
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ errorDetailsCode: 403001 })
      body.destroy()
    })

    it('check routes reached through a trailing slash or a percent-encoded path wait for the same slot, and answer once it is free', async ({ task }) => {
      const variants = [
        `${MP}/users/imports/check/`,
        `${MP}/users/imports/%63heck`,
        `${MP}/users/imports/synchronize/check/`,
        `${MP}/users/imports/synchronize/%63heck`,
        `${MP}/users/imports/rainbowvoice/check/`,
        `${MP}/users/imports/rainbowvoice/%63heck`,
      ]
      const holder = await holdCheckSlot(app, adminA)
      const whileHeld = []
      for (const url of variants) whileHeld.push(await app.inject({ method: 'POST', url, headers: { ...bearer(adminB), ...CSV }, payload: userCsv(2, 'variant') }))
      expect(whileHeld.map((r) => r.statusCode)).toEqual([503, 503, 503, 503, 503, 503])
      await holder.finish()
      const free = []
      for (const url of variants) free.push(await app.inject({ method: 'POST', url, headers: { ...bearer(adminB), ...CSV }, payload: userCsv(2, 'variant') }))
      // The handlers answer: a user file is a good import check and a bad synchronize or Rainbow Voice one.
      expect(free.map((r) => r.statusCode)).toEqual([200, 200, 400, 400, 400, 400])
      for (const r of free.slice(2)) expect(String(r.json().errorDetailsCode)).toMatch(/^4005\d\d$/)
      report(task, { checkVariantsCapped: whileHeld.filter((r) => r.statusCode === 503).length })
    })
  })

  describe('pending-import cap of one', () => {
    let app: TestApp
    let w: World
    beforeAll(async () => {
      w = await createWorld(tdb.db)
      app = await buildTestApp(tdb.db, { MAX_PENDING_IMPORTS: 1 })
    })
    afterAll(async () => { await app?.close() })

    it('an admin naming another company gets 403, never that company\'s count; a plain user gets 403', async ({ task }) => {
      const adminB = await login(app, w.adminB.email, PASSWORD)
      const ownB = await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(adminB), ...CSV }, payload: userCsv(2, 'b-pending') })
      expect(ownB.statusCode).toBe(200)
      const adminA = await login(app, w.adminA.email, PASSWORD)
      const intoB = await app.inject({ method: 'POST', url: `${MP}/users/imports?companyId=${w.companyC}`, headers: { ...bearer(adminA), ...CSV }, payload: userCsv(2, 'a-into-c') })
      expect(intoB.statusCode).toBe(403)
      expect(intoB.json().errorDetails).not.toMatch(/imports in progress/)
      const adminC = await login(app, w.superadmin.email, PASSWORD)
      await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(adminC), ...CSV }, payload: userCsv(2, 'c-pending') })
      const again = await app.inject({ method: 'POST', url: `${MP}/users/imports?companyId=${w.companyC}`, headers: { ...bearer(adminA), ...CSV }, payload: userCsv(2, 'a-into-c2') })
      expect(again.statusCode).toBe(403)
      expect(again.json().errorDetails).not.toMatch(/imports in progress/)
      const plain = await login(app, w.plainUser.email, PASSWORD)
      const byPlain = await app.inject({ method: 'POST', url: `${MP}/users/imports/synchronize`, headers: { ...bearer(plain), ...CSV }, payload: userCsv(2, 'plain') })
      expect(byPlain.statusCode).toBe(403)
      report(task, { outOfScopeRefused: 2, countsLeaked: 0 })
    })

    it('import routes reached through a trailing slash or a percent-encoded path are held to the same cap', async ({ task }) => {
      const adminA = await login(app, w.adminA.email, PASSWORD)
      const first = await app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(adminA), ...CSV }, payload: userCsv(2, 'a-first') })
      expect(first.statusCode).toBe(200)
      const variants = [
        `${MP}/users/imports/`,
        `${MP}/users/%69mports`,
        `${MP}/users/imports/synchronize/`,
        `${MP}/users/imports/%73ynchronize`,
        `${MP}/users/imports/rainbowvoice/`,
        `${MP}/users/imports/%72ainbowvoice`,
      ]
      const answers = []
      for (const [i, url] of variants.entries()) answers.push(await app.inject({ method: 'POST', url, headers: { ...bearer(adminA), ...CSV }, payload: userCsv(2, `a-variant-${i}`) }))
      expect(answers.map((r) => r.statusCode)).toEqual([429, 429, 429, 429, 429, 429])
      const list = await app.inject({ method: 'GET', url: `${MP}/users/imports`, headers: bearer(adminA) })
      expect(list.json().data).toHaveLength(1)
      report(task, { importVariantsCapped: answers.filter((r) => r.statusCode === 429).length, pendingAfter: list.json().data.length, limit: 1 })
    })
  })

  describe('per-IP limit before authentication', () => {
    let app: TestApp
    beforeAll(async () => { app = await buildTestApp(tdb.db, { RATE_LIMIT_IP_MAX: 5, RATE_LIMIT_MAX: 100 }) })
    afterAll(async () => { await app?.close() })

    it('each forged token is another try from the same address, not a fresh budget', async ({ task }) => {
      const statuses = []
      for (let i = 0; i < 8; i++) {
        const forged = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged-${i}`
        statuses.push((await app.inject({ method: 'GET', url: `${MP}/users/template?mode=user`, headers: bearer(forged) })).statusCode)
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
      report(task, { forgedTokens: statuses.length, refusedByAddress: statuses.filter((s) => s === 429).length })
    })
  })
})
