import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listOutbox } from '../../../src/db/outbox-repository.js'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { insertUser } from '../../../src/db/users-repository.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'

const BASE = '/api/rainbow/massprovisioning/v1.0/users/imports/synchronize/check'
const HEADER = '__action__;loginEmail;password;firstName;jobTitle;tags0;pbxId;pbxShortNumber'

interface Summary {
  reqId: string
  mode: string
  actions: Record<string, number>
  columns: number
  delimiter: string
  errors: Array<{ lineNumber: number, code: number }>
  plan: Array<{ lineNumber: number, action: string, outcome: string, status: string, userId?: string, errorCode?: number, device?: Record<string, unknown>, changes?: Record<string, unknown> }>
}

describe.each(dbKinds())('POST /users/imports/synchronize/check and its command report on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  let pbxA: string
  const tokens = { adminA: '', adminB: '', orgAdmin: '' }
  const jid: Record<string, string> = {}

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'adminB', 'orgAdmin'] as const) {
      tokens[who] = await login(app, world[who].email, PASSWORD)
      jid[who] = (await tdb.db.query<{ jid: string }>('SELECT jid_im AS jid FROM users WHERE id = $1', [world[who].id]))[0]!.jid
    }
    pbxA = (await listPbxs(tdb.db, world.companyA))[0]!.pbxId
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const check = (body: string, opts: { token?: string, query?: string } = {}) => app.inject({
    method: 'POST',
    url: `${BASE}${opts.query ? `?${opts.query}` : ''}`,
    headers: { ...bearer(opts.token ?? tokens.adminA), 'content-type': 'text/csv; charset=utf-8', accept: 'application/json' },
    payload: body,
  })
  const report = (commandId: string, opts: { token?: string, query?: string } = {}) => app.inject({
    method: 'GET',
    url: `${BASE}/${commandId}/report${opts.query ? `?${opts.query}` : ''}`,
    headers: { ...bearer(opts.token ?? tokens.adminA), accept: 'application/json' },
  })
  const endedFor = async (commandId: string) => (await listOutbox(tdb.db, 'command_ended')).filter((r) => r.payload.commandId === commandId)
  const state = async () => tdb.db.query(`SELECT
      (SELECT count(*)::int FROM command_reports) AS reports, (SELECT count(*)::int FROM outbox) AS outbox,
      (SELECT count(*)::int FROM users WHERE deleted_at IS NULL) AS users,
      (SELECT count(*)::int FROM phone_numbers WHERE user_id IS NOT NULL) AS held,
      (SELECT count(*)::int FROM imports) AS imports`)

  /** A clean file: a new user with a free number, an update of a plain user, a detach and a delete of users that exist. */
  async function cleanFile (): Promise<string> {
    const tag = newId().slice(-8)
    const holder = newId()
    const gone = newId()
    await insertUser(tdb.db, { id: holder, companyId: world.companyA, loginEmail: `holder-${tag}@example.com`, passwordHash: null, roles: ['user'], adminType: null, jidIm: `${holder}@localhost` })
    await insertUser(tdb.db, { id: gone, companyId: world.companyA, loginEmail: `gone-${tag}@example.com`, passwordHash: null, roles: ['user'], adminType: null, jidIm: `${gone}@localhost` })
    await tdb.db.query('UPDATE phone_numbers SET user_id = NULL WHERE company_id = $1', [world.companyA])
    await tdb.db.query('UPDATE phone_numbers SET user_id = $1, attached_at = now() WHERE company_id = $2 AND short_number = $3', [holder, world.companyA, '2002'])
    return [
      HEADER,
      `upsert;new-${tag}@example.com;Str0ng!Pass;New;Dev;;${pbxA};2000`,
      `sync;${world.plainUser.email};;Plain;;;;`,
      `detach;holder-${tag}@example.com;;;;;;`,
      `delete;gone-${tag}@example.com;;;;;;`,
    ].join('\n') + '\n'
  }

  it('checks a useranddevice file: mode, sync/upsert/delete/detach counters, plan, reqId of synchronize-check', async () => {
    const body = await cleanFile()
    const before = await state()
    const res = await check(body)
    expect(res.statusCode).toBe(200)
    const data = res.json<{ data: Summary }>().data
    expect(data).toMatchObject({ mode: 'useranddevice', columns: 8, delimiter: ';', errors: [] })
    expect(data.actions).toEqual({ sync: 1, upsert: 1, delete: 1, detach: 1 })
    expect(data.reqId).toBe(createHash('sha256').update(`${world.companyA}\nsynchronize-check\n${body}`).digest('hex'))
    expect(data.plan.map((p) => [p.lineNumber, p.action, p.outcome, p.status])).toEqual([
      [2, 'upsert', 'create', 'success'],
      [3, 'sync', 'update', 'success'],
      [4, 'detach', 'detach', 'success'],
      [5, 'delete', 'delete', 'success'],
    ])
    expect(data.plan[0]!.device).toMatchObject({ outcome: 'attach', pbxId: pbxA, shortNumber: '2000' })
    // sync: jobTitle and tags are empty and already empty, so only firstName changes
    expect(data.plan[1]!.changes).toEqual({ firstName: { from: null, to: 'Plain' } })
    expect(res.body).not.toContain('Str0ng!Pass')
    // without a commandId nothing at all is stored
    expect(await state()).toEqual(before)
  })

  it('sync clears the fields whose cells are empty and detaches the numbers of a user who holds some', async () => {
    const id = newId()
    const email = `synced-${newId()}@example.com`
    await insertUser(tdb.db, { id, companyId: world.companyA, loginEmail: email, passwordHash: null, firstName: 'Syn', roles: ['user'], adminType: null, jidIm: `${id}@localhost` })
    await tdb.db.query("UPDATE users SET job_title = 'Boss', tags = '{a,b}' WHERE id = $1", [id])
    await tdb.db.query('UPDATE phone_numbers SET user_id = NULL WHERE company_id = $1', [world.companyA])
    await tdb.db.query('UPDATE phone_numbers SET user_id = $1 WHERE company_id = $2 AND short_number = $3', [id, world.companyA, '2001'])
    const data = (await check(`${HEADER}\nsync;${email};;Syn;;;;\nupsert;${world.plainUser.email};;;;;;\n`)).json<{ data: Summary }>().data
    expect(data.errors).toEqual([])
    expect(data.plan[0]).toMatchObject({ outcome: 'update', userId: id, device: { outcome: 'detach', detached: [`${pbxA}/2001`] } })
    // The file has tags0 alone: its empty cell clears the first tag; the second, which no column names, stays.
    expect(data.plan[0]!.changes).toEqual({ jobTitle: { from: 'Boss', to: null }, tags: { from: ['a', 'b'], to: ['b'] } })
    // upsert with only empty cells changes nothing
    expect(data.plan[1]).toMatchObject({ outcome: 'unchanged', changes: {} })
    expect(data.actions).toEqual({ sync: 1, upsert: 1, delete: 0, detach: 0 })
  })

  it('with commandId: the report is stored ({status, report}, no data envelope) and ONE command_ended goes to the caller', async () => {
    const body = await cleanFile()
    const res = await check(body, { query: 'commandId=cmd-1&comment=%25' })
    expect(res.statusCode).toBe(200)
    const summary = res.json<{ data: Summary }>().data

    const got = await report('cmd-1')
    expect(got.statusCode).toBe(200)
    expect(got.headers['content-type']).toMatch(/^application\/json/)
    const stored = got.json()
    expect(Object.keys(stored).sort()).toEqual(['report', 'status'])
    expect(stored.status).toBe('success')
    expect(stored.report).toEqual(summary)

    const ended = await endedFor('cmd-1')
    expect(ended).toHaveLength(1)
    expect(ended[0]).toMatchObject({ toJid: jid.adminA, payload: { commandId: 'cmd-1', companyId: world.companyA }, sentAt: null })

    // another admin of the same company sees it too (reports belong to the company)
    expect((await report('cmd-1', { token: tokens.orgAdmin })).json().status).toBe('success')
  })

  it('a file with line errors: status failure, the errors in the report, one more command_ended', async () => {
    const body = `${HEADER}\nupsert;bad-email;;;;;;\nupsert;ok-${newId()}@example.com;;;;;;9999\nupsert;ok2-${newId()}@example.com;weakweak;;;;;\n`
    const res = await check(body, { query: 'commandId=cmd-2' })
    expect(res.statusCode).toBe(200)
    const summary = res.json<{ data: Summary }>().data
    expect(summary.errors.map((e) => [e.lineNumber, e.code])).toEqual([[2, 3010], [3, 1003], [4, 3011]])
    expect(summary.actions).toEqual({ sync: 0, upsert: 0, delete: 0, detach: 0 })
    const stored = (await report('cmd-2')).json()
    expect(stored.status).toBe('failure')
    expect(stored.report.errors).toEqual(summary.errors)
    expect(JSON.stringify(stored)).not.toContain('weakweak')
    expect(await endedFor('cmd-2')).toHaveLength(1)
  })

  it('running the same command\'s check again replaces its report and ends the command once more', async () => {
    const failing = `${HEADER}\nupsert;x-${newId()}@example.com;;;;;;9999\n`
    await check(failing, { query: 'commandId=cmd-again' })
    expect((await report('cmd-again')).json().status).toBe('failure')
    await check(await cleanFile(), { query: 'commandId=cmd-again' })
    expect((await report('cmd-again')).json().status).toBe('success')
    const ended = await endedFor('cmd-again')
    expect(ended).toHaveLength(2)
    const rows = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM command_reports WHERE command_id = 'cmd-again'")
    expect(rows[0]!.n).toBe(1)
  })

  it('a file refused with 400 still stores a failure report under its commandId, with one command_ended', async () => {
    const res = await check('__action__;loginEmail;favouriteColour\nupsert;a@example.com;blue\n', { query: 'commandId=cmd-bad' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ errorCode: 400, errorDetailsCode: 400502 })
    const stored = await report('cmd-bad')
    expect(stored.statusCode).toBe(200)
    expect(stored.json().status).toBe('failure')
    expect(JSON.stringify(stored.json().report)).toContain('400502')
    const ended = await endedFor('cmd-bad')
    expect(ended).toHaveLength(1)
    expect(ended[0]!.toJid).toBe(jid.adminA)

    // no data line at all
    expect((await check(`${HEADER}\n`, { query: 'commandId=cmd-empty' })).json()).toMatchObject({ errorDetailsCode: 400508 })
    expect((await report('cmd-empty')).json().status).toBe('failure')
    expect(await endedFor('cmd-empty')).toHaveLength(1)
  })

  it('a body refused before the check (415 type, 413 size) still stores a failure report with the error, with one command_ended', async () => {
    const wrongType = await app.inject({
      method: 'POST', url: `${BASE}?commandId=cmd-415`, headers: { ...bearer(tokens.adminA), 'content-type': 'application/json' }, payload: '{"csv":"x"}',
    })
    expect(wrongType.statusCode).toBe(415)
    const stored = await report('cmd-415')
    expect(stored.json()).toEqual({ status: 'failure', report: { error: wrongType.json() } })
    expect(await endedFor('cmd-415')).toHaveLength(1)

    const tooLarge = await app.inject({
      method: 'POST', url: `${BASE}?commandId=cmd-413`, headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv', 'content-length': String(65 * 1024 * 1024) }, payload: `${HEADER}\n`,
    })
    expect(tooLarge.statusCode).toBe(413)
    expect((await report('cmd-413')).json()).toEqual({ status: 'failure', report: { error: tooLarge.json() } })
    expect(await endedFor('cmd-413')).toHaveLength(1)

    // without a commandId, or for a company the caller does not manage, nothing is stored; the company
    // is checked before the body is looked at, so the foreign one is a 403 rather than the 415
    const before = await state()
    const foreign = await app.inject({
      method: 'POST', url: `${BASE}?commandId=cmd-415b&companyId=${world.companyB}`, headers: { ...bearer(tokens.adminA), 'content-type': 'application/json' }, payload: '{}',
    })
    expect(foreign.statusCode).toBe(403)
    expect(await state()).toEqual(before)
  })

  it('a 401 or 403 stores nothing under the commandId', async () => {
    const body = await cleanFile()
    const before = await state()
    const anonymous = await app.inject({ method: 'POST', url: `${BASE}?commandId=cmd-anon`, headers: { 'content-type': 'text/csv' }, payload: `${HEADER}\n` })
    expect(anonymous.statusCode).toBe(401)
    const foreign = await check(body, { query: `companyId=${world.companyB}&commandId=cmd-anon` })
    expect(foreign.statusCode).toBe(403)
    expect(await state()).toEqual(before)
    expect(await endedFor('cmd-anon')).toHaveLength(0)
  })

  it('an unknown commandId is a 404 in the Rainbow envelope', async () => {
    const res = await report('never-ran')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found' })
  })

  it('a commandId of company B: 404 for A\'s admin, 403 if A\'s admin names company B, visible to B\'s admin and the org admin', async () => {
    const body = `${HEADER}\nsync;${world.userB.email};;Bee;;;;\n`
    const res = await check(body, { token: tokens.adminB, query: 'commandId=cmd-b' })
    expect(res.statusCode).toBe(200)
    expect(res.json<{ data: Summary }>().data.errors).toEqual([])
    const ended = await endedFor('cmd-b')
    expect(ended).toHaveLength(1)
    expect(ended[0]).toMatchObject({ toJid: jid.adminB, payload: { companyId: world.companyB } })

    expect((await report('cmd-b', { token: tokens.adminB })).json().status).toBe('success')
    const hidden = await report('cmd-b')
    expect(hidden.statusCode).toBe(404)
    const forbidden = await report('cmd-b', { query: `companyId=${world.companyB}` })
    expect(forbidden.statusCode).toBe(403)
    expect((await report('cmd-b', { token: tokens.orgAdmin, query: `companyId=${world.companyB}` })).statusCode).toBe(200)
  })

  it('the same commandId in two companies are two reports', async () => {
    await check(`${HEADER}\nupsert;x-${newId()}@example.com;;;;;;9999\n`, { query: 'commandId=cmd-shared' })
    await check(`${HEADER}\nsync;${world.userB.email};;Bee;;;;\n`, { token: tokens.adminB, query: 'commandId=cmd-shared' })
    expect((await report('cmd-shared')).json().status).toBe('failure')
    expect((await report('cmd-shared', { token: tokens.adminB })).json().status).toBe('success')
  })

  it('a malformed commandId is a 400', async () => {
    const res = await check(await cleanFile(), { query: `commandId=${encodeURIComponent('a b/c')}` })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ errorCode: 400 })
  })
})
