import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listOutbox } from '../../../src/db/outbox-repository.js'
import { runImport } from '../../../src/jobs/import-job.js'
import { startOutboxRelay } from '../../../src/notifications/outbox-relay.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, buildTestApp, login, OPERATOR, type TestApp } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { buildImportApp, MP } from '../../jobs/helpers/import-app.js'

const REPORT = (commandId: string) => `${MP}/users/imports/synchronize/${commandId}/report`

// POST/GET /users/imports/synchronize/:commandId/report (D1) and "every import command ends once":
// its end, a refusal at intake or a POSTed report, whichever comes first, owes one command_ended.
describe.each(dbKinds())('command reports of synchronize on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens = { adminA: '', adminB: '' }
  let jidA = ''
  const logger = pino({ level: 'silent' })

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    app = (await buildImportApp(tdb.db, { queue: false })).app
    tokens.adminA = await login(app, world.adminA.email, PASSWORD)
    tokens.adminB = await login(app, world.adminB.email, PASSWORD)
    jidA = (await tdb.db.query<{ jid: string }>('SELECT jid_im AS jid FROM users WHERE id = $1', [world.adminA.id]))[0]!.jid
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const post = (commandId: string, body: unknown, opts: { token?: string, query?: string, raw?: string } = {}) => app.inject({
    method: 'POST',
    url: `${REPORT(commandId)}${opts.query ? `?${opts.query}` : ''}`,
    headers: { ...bearer(opts.token ?? tokens.adminA), 'content-type': 'application/json' },
    payload: opts.raw ?? JSON.stringify(body),
  })
  const get = (commandId: string, opts: { token?: string, query?: string } = {}) => app.inject({
    method: 'GET', url: `${REPORT(commandId)}${opts.query ? `?${opts.query}` : ''}`, headers: bearer(opts.token ?? tokens.adminA),
  })
  const sync = (body: string, query: string, headers: Record<string, string> = {}) => app.inject({
    method: 'POST',
    url: `${MP}/users/imports/synchronize?${query}`,
    headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv; charset=utf-8', ...headers },
    payload: body,
  })
  const endedFor = async (commandId: string) => (await listOutbox(tdb.db, 'command_ended')).filter((r) => r.payload.commandId === commandId)
  const csv = () => `__action__;loginEmail;firstName\nupsert;u-${newId()}@example.com;Ann\nupsert;v-${newId()}@example.com;Bob\n`

  it('POST creates the report ({status, report}, no data envelope) and owes one command_ended to the caller', async () => {
    const res = await post('cmd-post', { status: 'success', details: 'nothing to synchronize' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'success', report: { details: 'nothing to synchronize' } })
    expect((await get('cmd-post')).json()).toEqual({ status: 'success', report: { details: 'nothing to synchronize' } })
    const ended = await endedFor('cmd-post')
    expect(ended).toHaveLength(1)
    expect(ended[0]).toMatchObject({ toJid: jidA, payload: { commandId: 'cmd-post', companyId: world.companyA }, sentAt: null })
  })

  it('a second POST updates the report and owes nothing more', async () => {
    await post('cmd-twice', { status: 'success', details: 'first' })
    const again = await post('cmd-twice', { status: 'failure', details: { reason: 'LDAP unreachable' } })
    expect(again.json()).toEqual({ status: 'failure', report: { details: { reason: 'LDAP unreachable' } } })
    expect(await endedFor('cmd-twice')).toHaveLength(1)
    // details may be left out of a success, not of a failure
    expect((await post('cmd-nodetails', { status: 'success' })).json()).toEqual({ status: 'success', report: {} })
    for (const body of [{ status: 'failure' }, { status: 'failure', details: '' }]) {
      const res = await post('cmd-failure-nodetails', body)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ errorCode: 400, errorMsg: 'Bad Request' })
      expect(JSON.stringify(res.json().errorDetails)).toMatch(/details is required when status is failure/)
    }
    expect((await get('cmd-failure-nodetails')).statusCode).toBe(404)
    expect(await endedFor('cmd-failure-nodetails')).toHaveLength(0)
  })

  it('bad bodies are 400 in the Rainbow envelope and store nothing', async () => {
    const cases: Array<[unknown, string?]> = [
      [{ details: 'x' }],
      [{ status: 'pending', details: 'x' }],
      [{ status: 'success', details: 'x'.repeat(64 * 1024 + 1) }],
      [{ status: 'success', details: { big: 'x'.repeat(64 * 1024) } }],
      [{ status: 'success', details: 42 }],
      [null, '{"status": "success",'],
      [null, '[]'],
    ]
    for (const [body, raw] of cases) {
      const res = await post('cmd-bad-body', body, raw ? { raw } : {})
      expect(res.statusCode, JSON.stringify(body ?? raw).slice(0, 60)).toBe(400)
      expect(res.json()).toMatchObject({ errorCode: 400, errorMsg: 'Bad Request' })
    }
    const wrongType = await app.inject({ method: 'POST', url: REPORT('cmd-bad-body'), headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv' }, payload: 'status;success' })
    expect(wrongType.statusCode).toBe(415)
    expect((await post(encodeURIComponent('a b/c'), { status: 'success' })).statusCode).toBe(400)
    expect((await get('cmd-bad-body')).statusCode).toBe(404)
    expect(await endedFor('cmd-bad-body')).toHaveLength(0)
  })

  it('unknown or foreign commandId: 404; naming another company: 403; anonymous: 401', async () => {
    expect((await get('never-ran')).json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found' })
    await post('cmd-of-b', { status: 'success', details: 'b' }, { token: tokens.adminB })
    expect((await get('cmd-of-b')).statusCode).toBe(404)
    expect((await get('cmd-of-b', { token: tokens.adminB })).json()).toMatchObject({ status: 'success' })
    expect((await post('cmd-x', { status: 'success' }, { query: `companyId=${world.companyB}` })).statusCode).toBe(403)
    expect((await app.inject({ method: 'POST', url: REPORT('cmd-x'), headers: { 'content-type': 'application/json' }, payload: '{"status":"success"}' })).statusCode).toBe(401)
    expect(await endedFor('cmd-x')).toHaveLength(0)
  })

  it('a synchronize with commandId: pending with live counters while it runs, then its report, one command_ended; a later POST is a 409 and changes nothing', async () => {
    const res = await sync(csv(), 'commandId=cmd-run&label=run')
    expect(res.statusCode).toBe(200)
    const reqId = res.json<{ data: { reqId: string } }>().data.reqId
    const pending = (await get('cmd-run')).json()
    expect(pending).toMatchObject({ status: 'pending', report: { reqId, status: 'Pending', label: 'run', counters: { succeeded: 0, failed: 0, warnings: 0, total: 2, processed: 0 } } })
    expect(await endedFor('cmd-run')).toHaveLength(0)

    await runImport({ db: tdb.db, logger, xmppDomain: 'localhost', chunkSize: 1 }, reqId)
    const done = (await get('cmd-run')).json()
    expect(done).toMatchObject({ status: 'success', report: { reqId, status: 'Terminated', counters: { succeeded: 2, failed: 0, warnings: 0, total: 2 } } })
    expect(await endedFor('cmd-run')).toHaveLength(1)

    const posted = await post('cmd-run', { status: 'failure', details: 'connector gave up' })
    expect(posted.statusCode).toBe(409)
    expect(posted.json()).toMatchObject({ errorCode: 409, errorMsg: 'Conflict', errorDetailsCode: 409000 })
    expect(posted.json().errorDetails).toMatch(new RegExp(`Command cmd-run already ended: its import ${reqId} is Terminated`))
    expect((await get('cmd-run')).json()).toEqual(done)
    expect(await endedFor('cmd-run')).toHaveLength(1)
  })

  it('a POST while the import runs completes its report; a POST after a refusal or a check is a 409', async () => {
    const res = await sync(csv(), 'commandId=cmd-early')
    const reqId = res.json<{ data: { reqId: string } }>().data.reqId
    const early = await post('cmd-early', { status: 'failure', details: 'stopped by the connector' })
    expect(early.json()).toMatchObject({ status: 'failure', report: { reqId, details: 'stopped by the connector' } })
    await runImport({ db: tdb.db, logger, xmppDomain: 'localhost', chunkSize: 1 }, reqId)
    expect((await post('cmd-early', { status: 'success', details: 'again' })).statusCode).toBe(409)

    const refused = await sync('__action__;loginEmail;favouriteColour\nupsert;a@example.com;blue\n', 'commandId=cmd-refused-then-post')
    expect(refused.statusCode).toBe(400)
    const late = await post('cmd-refused-then-post', { status: 'success', details: 'all good' })
    expect(late.statusCode).toBe(409)
    expect(late.json().errorDetails).toMatch(/its synchronize was refused/)
    expect((await get('cmd-refused-then-post')).json()).toEqual({ status: 'failure', report: { error: refused.json() } })

    const check = await app.inject({
      method: 'POST', url: `${MP}/users/imports/synchronize/check?commandId=cmd-checked`, headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv' }, payload: csv(),
    })
    expect(check.statusCode).toBe(200)
    const afterCheck = await post('cmd-checked', { status: 'success', details: 'x' })
    expect(afterCheck.statusCode).toBe(409)
    expect(afterCheck.json().errorDetails).toMatch(/already ended with its check's report/)
    expect((await get('cmd-checked')).statusCode).toBe(404)
    expect(await endedFor('cmd-checked')).toHaveLength(1)
  })

  it('a synchronize with commandId refused at intake (400, 413, 415) ends the command once, as a failure with the error', async () => {
    const bad = await sync('__action__;loginEmail;favouriteColour\nupsert;a@example.com;blue\n', 'commandId=cmd-refused')
    expect(bad.statusCode).toBe(400)
    expect((await get('cmd-refused')).json()).toEqual({ status: 'failure', report: { error: bad.json() } })
    expect(await endedFor('cmd-refused')).toHaveLength(1)
    // the connector retries the same command: still one
    expect((await sync('__action__;loginEmail\n', 'commandId=cmd-refused')).statusCode).toBe(400)
    expect(await endedFor('cmd-refused')).toHaveLength(1)

    const wrongType = await sync('{}', 'commandId=cmd-415', { 'content-type': 'application/json' })
    expect(wrongType.statusCode).toBe(415)
    expect((await get('cmd-415')).json()).toEqual({ status: 'failure', report: { error: wrongType.json() } })
    expect(await endedFor('cmd-415')).toHaveLength(1)

    const tooLarge = await sync('__action__;loginEmail\n', 'commandId=cmd-413', { 'content-length': String(65 * 1024 * 1024) })
    expect(tooLarge.statusCode).toBe(413)
    expect((await get('cmd-413')).json()).toMatchObject({ status: 'failure', report: { error: { errorCode: 413 } } })
    expect(await endedFor('cmd-413')).toHaveLength(1)

    // a bad query parameter is a refusal too
    const badDelimiter = await sync(csv(), 'commandId=cmd-delim&delimiter=abc')
    expect(badDelimiter.statusCode).toBe(400)
    expect(await endedFor('cmd-delim')).toHaveLength(1)
  })

  it('409: the same file under a new commandId ends that command; a retry of the accepted command leaves it running', async () => {
    const body = csv()
    const first = await sync(body, 'commandId=cmd-first')
    expect(first.statusCode).toBe(200)
    const retry = await sync(body, 'commandId=cmd-first')
    expect(retry.statusCode).toBe(409)
    expect((await get('cmd-first')).json().status).toBe('pending')
    expect(await endedFor('cmd-first')).toHaveLength(0)

    const other = await sync(body, 'commandId=cmd-other')
    expect(other.statusCode).toBe(409)
    expect((await get('cmd-other')).json()).toEqual({ status: 'failure', report: { error: other.json() } })
    expect(await endedFor('cmd-other')).toHaveLength(1)
  })

  it('refusals that name no command of the caller store nothing: no commandId, 401, 403', async () => {
    const before = await tdb.db.query('SELECT (SELECT count(*)::int FROM command_reports) AS r, (SELECT count(*)::int FROM outbox) AS o')
    expect((await sync('__action__;loginEmail\n', 'label=x')).statusCode).toBe(400)
    expect((await app.inject({ method: 'POST', url: `${MP}/users/imports/synchronize?commandId=cmd-anon`, headers: { 'content-type': 'text/csv' }, payload: 'x' })).statusCode).toBe(401)
    expect((await sync('__action__;loginEmail\n', `commandId=cmd-anon&companyId=${world.companyB}`)).statusCode).toBe(403)
    expect(await tdb.db.query('SELECT (SELECT count(*)::int FROM command_reports) AS r, (SELECT count(*)::int FROM outbox) AS o')).toEqual(before)
  })
})

describe('/ready with the outbox relay', () => {
  it('an unconfigured relay is idle, does not fail readiness, and says how many notifications wait', async () => {
    const tdb = await openTestDb('pglite')
    const relay = startOutboxRelay({ db: tdb.db, logger: pino({ level: 'silent' }), xmpp: undefined })
    const app = await buildTestApp(tdb.db, { checks: [relay.readiness] })
    try {
      await tdb.db.query("INSERT INTO outbox (id, kind, to_jid, payload) VALUES ($1, 'command_ended', 'a@localhost', '{\"commandId\":\"c\"}')", [newId()])
      const res = await app.inject({ method: 'GET', url: '/ready', headers: OPERATOR })
      expect(res.statusCode).toBe(200)
      expect(res.json().checks).toContainEqual({ name: 'xmpp', ok: true, detail: 'idle (XMPP_SERVICE, XMPP_USERNAME, XMPP_PASSWORD not set): 1 notification waiting' })
      expect(relay.status().state).toBe('idle')
    } finally {
      await app.close()
      await relay.stop()
      await tdb.close()
    }
  })
})
