import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenantService } from '../../../src/services/tenants.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { giveCloudPbx, subscribe, voiceOf } from '../../helpers/voice.js'
import { addUser, buildImportApp, MP, type ImportApp } from '../../jobs/helpers/import-app.js'

// The deletion safeguard of issue 16 through the HTTP routes: an import deleting more than
// MAX_DELETE_PERCENT % of the company's live users is a 409630 that stores nothing, unless it carries
// confirmDeletes=<its deletion count>; every check answer says so in data.deletionSafeguard.

const CSV = { 'content-type': 'text/csv; charset=utf-8' }
type ImportPath = '/users/imports' | '/users/imports/synchronize' | '/users/imports/rainbowvoice'

interface Envelope { errorCode: number, errorDetailsCode: number, errorDetails: string }
interface Safeguard { deletions: number, companyUsers: number, maxDeletePercent: number, confirmationRequired: boolean }

describe.each(dbKinds())('deletion safeguard (MAX_DELETE_PERCENT) on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  /** MAX_DELETE_PERCENT=100: the safeguard is off. */
  let off: ImportApp
  /** MAX_DELETE_PERCENT=0: every deletion needs confirming. */
  let strict: ImportApp
  let world: World
  let token = ''
  let otherAdmin = ''

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    ia = await buildImportApp(tdb.db)
    off = await buildImportApp(tdb.db, { maxDeletePercent: 100 })
    strict = await buildImportApp(tdb.db, { maxDeletePercent: 0 })
    world = await createWorld(tdb.db)
    token = await login(ia.app, world.superadmin.email, PASSWORD)
    otherAdmin = await login(ia.app, world.adminB.email, PASSWORD)
  })
  afterAll(async () => {
    for (const a of [ia, off, strict]) {
      await a?.queue?.drained()
      await a?.queue?.close()
      await a?.app.close()
    }
    await tdb?.close()
  })

  /** A company of its own with exactly 20 live users (the superadmin acting on it lives elsewhere). */
  async function company20 () {
    const t = newId().slice(-8)
    const { companyId } = await createTenantService({ db: tdb.db, xmppDomain: 'localhost' }).createCompany({ name: `Twenty-${t}`, organization: `Org-${t}` })
    const emails = Array.from({ length: 20 }, (_, i) => `u${i}-${t}@example.com`)
    const ids: string[] = []
    for (const e of emails) ids.push(await addUser(tdb.db, companyId, e))
    return { companyId, emails, ids }
  }

  const liveUsers = async (companyId: string) =>
    (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE company_id = $1 AND deleted_at IS NULL', [companyId]))[0]!.n
  const post = (path: ImportPath | `${ImportPath}/check` | '/users/imports/synchronize/check', companyId: string, body: string, query = '', on: ImportApp = ia, as = token) =>
    on.app.inject({ method: 'POST', url: `${MP}${path}?companyId=${companyId}${query}`, headers: { ...bearer(as), ...CSV }, payload: body })
  const importsOf = async (companyId: string) =>
    (await ia.app.inject({ method: 'GET', url: `${MP}/users/imports?companyId=${companyId}`, headers: bearer(token) })).json<{ data: Array<{ reqId: string }> }>().data
  async function applied (res: Awaited<ReturnType<typeof post>>, on: ImportApp = ia) {
    expect(res.statusCode, res.body).toBe(200)
    await on.queue!.drained()
    const { reqId } = res.json<{ data: { reqId: string } }>().data
    const details = await on.app.inject({ method: 'GET', url: `${MP}/users/imports/${reqId}/details`, headers: bearer(token) })
    return details.json<{ data: { status: string, counters: { succeeded: number, failed: number, warnings: number, total: number } } }>().data
  }
  const userFile = (lines: string[]) => ['__action__;loginEmail', ...lines].join('\n') + '\n'
  const deletes = (emails: string[]) => userFile(emails.map((e) => `delete;${e}`))

  it('3 deletions of 20 users (15 % > 10 %): 409630 naming the count, the users, the percent and the limit; nothing stored, nothing deleted', async () => {
    const c = await company20()
    const body = deletes(c.emails.slice(0, 3))
    const listed = await importsOf(c.companyId)
    const res = await post('/users/imports', c.companyId, body)
    expect(res.statusCode, res.body).toBe(409)
    const error = res.json<Envelope>()
    expect(error).toMatchObject({ errorCode: 409, errorMsg: 'Conflict', errorDetailsCode: 409630 })
    expect(error.errorDetails).toBe('This file would delete 3 of the company\'s 20 users (15 %, over the limit of 10 %): nothing was imported; send it again with confirmDeletes=3 to confirm these deletions')
    expect(await importsOf(c.companyId)).toEqual(listed)
    expect(await liveUsers(c.companyId)).toBe(20)

    // A wrong count is refused the same way, naming the count expected.
    const wrong = await post('/users/imports', c.companyId, body, '&confirmDeletes=2')
    expect(wrong.statusCode, wrong.body).toBe(409)
    expect(wrong.json<Envelope>()).toMatchObject({ errorDetailsCode: 409630, errorDetails: expect.stringMatching(/^confirmDeletes=2 does not match: this file would delete 3 of the company's 20 users .*send it again with confirmDeletes=3/) })
    expect((await post('/users/imports', c.companyId, body, '&confirmDeletes=4')).json<Envelope>().errorDetailsCode).toBe(409630)
    expect(await importsOf(c.companyId)).toEqual(listed)
    expect(await liveUsers(c.companyId)).toBe(20)

    // The right count: the same file is accepted (the refusals stored no reqId) and applied.
    const report = await applied(await post('/users/imports', c.companyId, body, '&confirmDeletes=3'))
    expect(report).toMatchObject({ status: 'Terminated', counters: { succeeded: 3, failed: 0, total: 3 } })
    expect(await liveUsers(c.companyId)).toBe(17)
    expect(await importsOf(c.companyId)).toHaveLength(listed.length + 1)
  })

  it('2 deletions of 20 users (10 %, not over it) pass without confirmation, and a confirmDeletes then is ignored', async () => {
    const c = await company20()
    expect(await applied(await post('/users/imports', c.companyId, deletes(c.emails.slice(0, 2))))).toMatchObject({ counters: { succeeded: 2 } })
    expect(await liveUsers(c.companyId)).toBe(18)
    // 1 of 18 now: not required, so a count that is not the file's changes nothing.
    expect(await applied(await post('/users/imports', c.companyId, deletes(c.emails.slice(2, 3)), '&confirmDeletes=7'))).toMatchObject({ counters: { succeeded: 1 } })
    expect(await liveUsers(c.companyId)).toBe(17)
  })

  it('only lines that would really delete a live user of the company count: unknown users, other companies\' users and failing lines do not', async () => {
    const c = await company20()
    const elsewhere = await addUser(tdb.db, world.companyB, `elsewhere-${newId().slice(-8)}@example.com`)
    const elsewhereEmail = (await tdb.db.query<{ e: string }>('SELECT login_email AS e FROM users WHERE id = $1', [elsewhere]))[0]!.e
    const body = userFile([
      `delete;${c.emails[0]}`, `delete;${c.emails[1]}`,
      'delete;ghost-1@example.com', 'delete;ghost-2@example.com', `delete;${elsewhereEmail}`,
      'delete;not-an-email', `delete;${c.emails[0]}`, // invalid, and a duplicate of line 2: line errors
    ])
    const check = await post('/users/imports/check', c.companyId, body)
    expect(check.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 2, companyUsers: 20, maxDeletePercent: 10, confirmationRequired: false })
    const report = await applied(await post('/users/imports', c.companyId, body))
    expect(report.counters).toMatchObject({ succeeded: 2, failed: 5 })
    expect(await liveUsers(c.companyId)).toBe(18)
    expect(await liveUsers(world.companyB)).toBeGreaterThan(0)
    // nostrict turns the unknown ones into warnings: still no deletion (1 of 18 is under 10 %).
    const more = userFile([`delete;${c.emails[2]}`, 'delete;ghost-3@example.com', 'delete;ghost-4@example.com', 'delete;ghost-5@example.com'])
    expect((await applied(await post('/users/imports', c.companyId, more, '&nostrict=true'))).counters).toMatchObject({ succeeded: 1, warnings: 3 })
    expect(await liveUsers(c.companyId)).toBe(17)
  })

  it('synchronize: its delete lines count; users absent from a synchronize file are not deleted, so they do not count', async () => {
    const c = await company20()
    const header = '__action__;loginEmail;firstName'
    const three = [header, `sync;${c.emails[0]};Kept`, `upsert;new-${newId().slice(-8)}@example.com;New`, ...c.emails.slice(1, 4).map((e) => `delete;${e};`)].join('\n') + '\n'
    const check = await post('/users/imports/synchronize/check', c.companyId, three)
    expect(check.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 3, companyUsers: 20, maxDeletePercent: 10, confirmationRequired: true })
    const refused = await post('/users/imports/synchronize', c.companyId, three)
    expect(refused.statusCode, refused.body).toBe(409)
    expect(refused.json<Envelope>()).toMatchObject({ errorDetailsCode: 409630, errorDetails: expect.stringContaining('would delete 3 of the company\'s 20 users') })
    expect(await liveUsers(c.companyId)).toBe(20)
    expect((await applied(await post('/users/imports/synchronize', c.companyId, three, '&confirmDeletes=3'))).counters).toMatchObject({ succeeded: 5, failed: 0 })
    expect(await liveUsers(c.companyId)).toBe(18) // 20 - 3 + 1

    // A file naming one user of 18: the other 17 stay (synchronize deletes only its delete lines).
    const one = `${header}\nsync;${c.emails[4]};Alone\n`
    const alone = await post('/users/imports/synchronize/check', c.companyId, one)
    expect(alone.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toMatchObject({ deletions: 0, confirmationRequired: false })
    expect((await applied(await post('/users/imports/synchronize', c.companyId, one))).counters).toMatchObject({ succeeded: 1 })
    expect(await liveUsers(c.companyId)).toBe(18)
  })

  it('a refused synchronize ends the connector\'s command with the refusal (409630), and the confirmed one runs', async () => {
    const c = await company20()
    const body = ['__action__;loginEmail', ...c.emails.slice(0, 3).map((e) => `delete;${e}`)].join('\n') + '\n'
    const refused = await post('/users/imports/synchronize', c.companyId, body, '&commandId=cmd-guard-1')
    expect(refused.statusCode).toBe(409)
    const command = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/synchronize/cmd-guard-1/report?companyId=${c.companyId}`, headers: bearer(token) })
    expect(command.json()).toMatchObject({ status: 'failure', report: { error: { errorDetailsCode: 409630 } } })
    expect((await applied(await post('/users/imports/synchronize', c.companyId, body, '&commandId=cmd-guard-1&confirmDeletes=3'))).counters).toMatchObject({ succeeded: 3 })
    expect(await liveUsers(c.companyId)).toBe(17)
  })

  it('rainbowvoice: delete lines count, subscribers included, and a confirmed import releases and deletes them', async () => {
    const c = await company20()
    await giveCloudPbx(tdb.db, c.companyId, { ranges: [['7100', '7199']] })
    await subscribe(tdb.db, c.companyId, c.ids[0]!, '7101')
    const body = ['__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password', ...c.emails.slice(0, 3).map((e) => `delete;${e};;;;`)].join('\n') + '\n'
    const check = await post('/users/imports/rainbowvoice/check', c.companyId, body)
    expect(check.statusCode, check.body).toBe(200)
    expect(check.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 3, companyUsers: 20, maxDeletePercent: 10, confirmationRequired: true })
    const refused = await post('/users/imports/rainbowvoice', c.companyId, body)
    expect(refused.statusCode, refused.body).toBe(409)
    expect(refused.json<Envelope>().errorDetailsCode).toBe(409630)
    expect(await voiceOf(tdb.db, c.ids[0]!)).toMatchObject({ shortNumber: '7101', deleted: false })
    expect((await applied(await post('/users/imports/rainbowvoice', c.companyId, body, '&confirmDeletes=3'))).counters).toMatchObject({ succeeded: 3 })
    expect(await voiceOf(tdb.db, c.ids[0]!)).toMatchObject({ shortNumber: null, deleted: true })
    expect(await liveUsers(c.companyId)).toBe(17)
  })

  it('MAX_DELETE_PERCENT=100 turns it off (even every user at once); 0 asks for every deletion', async () => {
    const c = await company20()
    const check = await post('/users/imports/check', c.companyId, deletes(c.emails), '', off)
    expect(check.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 20, companyUsers: 20, maxDeletePercent: 100, confirmationRequired: false })
    expect((await applied(await post('/users/imports', c.companyId, deletes(c.emails.slice(0, 19)), '', off), off)).counters).toMatchObject({ succeeded: 19 })
    expect(await liveUsers(c.companyId)).toBe(1)

    const d = await company20()
    const refused = await post('/users/imports', d.companyId, deletes(d.emails.slice(0, 1)), '', strict)
    expect(refused.statusCode).toBe(409)
    expect(refused.json<Envelope>().errorDetails).toContain('would delete 1 of the company\'s 20 users (5 %, over the limit of 0 %)')
    expect((await applied(await post('/users/imports', d.companyId, deletes(d.emails.slice(0, 1)), '&confirmDeletes=1', strict), strict)).counters).toMatchObject({ succeeded: 1 })
    // No deletion, nothing to confirm.
    expect((await applied(await post('/users/imports', d.companyId, userFile([`update;${d.emails[5]}`]), '', strict), strict)).status).toBe('Terminated')
  })

  it('every check answer carries deletionSafeguard, also when nothing is deleted', async () => {
    const c = await company20()
    const plain = await post('/users/imports/check', c.companyId, userFile([`create;fresh-${newId().slice(-8)}@example.com`]))
    expect(plain.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 0, companyUsers: 20, maxDeletePercent: 10, confirmationRequired: false })
    const three = await post('/users/imports/check', c.companyId, deletes(c.emails.slice(0, 3)), '&plan=false')
    expect(three.json<{ data: { deletionSafeguard: Safeguard } }>().data.deletionSafeguard).toEqual({ deletions: 3, companyUsers: 20, maxDeletePercent: 10, confirmationRequired: true })
    expect(await liveUsers(c.companyId)).toBe(20)
  })

  it('confirmDeletes must be a whole number within bounds (400); the caller\'s scope is checked before any counting (403)', async () => {
    const c = await company20()
    const body = deletes(c.emails.slice(0, 3))
    for (const bad of ['', '-1', 'abc', '1e1', '3.0', '99999999', '250001']) {
      const res = await post('/users/imports', c.companyId, body, `&confirmDeletes=${bad}`)
      expect(res.statusCode, `${bad}: ${res.body}`).toBe(400)
      expect(res.json<Envelope>().errorDetailsCode).toBe(400000)
    }
    const outside = await post('/users/imports', c.companyId, body, '', ia, otherAdmin)
    expect(outside.statusCode).toBe(403)
    expect(await liveUsers(c.companyId)).toBe(20)
  })
})
