import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listOutbox } from '../../src/db/outbox-repository.js'
import { runImport } from '../../src/jobs/import-job.js'
import { newId } from '../../src/util/ids.js'
import { basic, bearer, login, type TestApp } from '../helpers/app.js'
import { dbKinds } from '../helpers/databases.js'
import { PASSWORD, useWorld } from '../helpers/fixtures.js'
import { buildImportApp, MP } from '../jobs/helpers/import-app.js'

// Item 7 of issue 12: every bad input is a 4xx in the Rainbow envelope, never a 500, and a
// connector's command whose input is refused or holds a NUL still ends.

const ADMIN = '/api/rainbow/admin/v1.0'
const AUTH = '/api/rainbow/authentication/v1.0'
const CSV = 'text/csv; charset=utf-8'
const ENVELOPE_KEYS = ['errorCode', 'errorDetails', 'errorDetailsCode', 'errorMsg']

interface Res { statusCode: number, body: string, json: <T = unknown>() => T }

/** A 4xx whose body is exactly the Rainbow envelope with errorCode = status. */
function expectEnvelope (res: Res, status?: number): Record<string, unknown> {
  const what = res.body.slice(0, 200)
  expect(res.statusCode, what).toBeGreaterThanOrEqual(400)
  expect(res.statusCode, what).toBeLessThan(500)
  if (status !== undefined) expect(res.statusCode, what).toBe(status)
  const body = res.json<Record<string, unknown>>()
  expect(Object.keys(body).sort()).toEqual(ENVELOPE_KEYS)
  expect(body.errorCode).toBe(res.statusCode)
  return body
}

describe.each(dbKinds())('bad input on %s', (kind) => {
  const s = useWorld(kind)
  let app: TestApp
  let token = ''
  const logger = pino({ level: 'silent' })

  beforeAll(async () => {
    app = (await buildImportApp(s.tdb.db, { queue: false })).app
    token = await login(app, s.world.adminA.email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
  })

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: { type: string, payload: string }) => app.inject({
    method, url, headers: { ...bearer(token), ...(body ? { 'content-type': body.type } : {}) }, ...(body ? { payload: body.payload } : {}),
  })
  const endedFor = async (commandId: string) => (await listOutbox(s.tdb.db, 'command_ended')).filter((r) => r.payload.commandId === commandId)
  const report = (commandId: string, check = false) => inject('GET', `${MP}/users/imports/synchronize/${check ? 'check/' : ''}${commandId}/report`)
  const email = (who: string) => `${who}-${newId()}@example.com`

  // Every route that takes a path parameter or a text query value, with the value in place of X.
  const routes: Array<[string, 'GET' | 'POST' | 'DELETE', (x: string) => string, { type: string, payload: () => string }?]> = [
    ['pbx phone numbers', 'GET', (x) => `${ADMIN}/pbxs/${x}/phonenumbers`],
    ['admin user', 'GET', (x) => `${ADMIN}/users/${x}`],
    ['admin users companyId', 'GET', (x) => `${ADMIN}/users?companyId=${x}`],
    ['pbxs companyId', 'GET', (x) => `${ADMIN}/pbxs?companyId=${x}`],
    ['import details', 'GET', (x) => `${MP}/users/imports/${x}/details`],
    ['delete import details', 'DELETE', (x) => `${MP}/users/imports/${x}/details`],
    ['imports ldapConfigId', 'GET', (x) => `${MP}/users/imports?ldapConfigId=${x}`],
    ['command report', 'GET', (x) => `${MP}/users/imports/synchronize/${x}/report`],
    ['check command report', 'GET', (x) => `${MP}/users/imports/synchronize/check/${x}/report`],
    ['post command report', 'POST', (x) => `${MP}/users/imports/synchronize/${x}/report`, { type: 'application/json', payload: () => '{"status":"success"}' }],
    ['import label', 'POST', (x) => `${MP}/users/imports?label=${x}`, { type: CSV, payload: () => `__action__;loginEmail\ncreate;${email('l')}\n` }],
    ['import delimiter', 'POST', (x) => `${MP}/users/imports?delimiter=${x}`, { type: CSV, payload: () => `__action__;loginEmail\ncreate;${email('d')}\n` }],
    ['synchronize ldapConfigId', 'POST', (x) => `${MP}/users/imports/synchronize?ldapConfigId=${x}`, { type: CSV, payload: () => `__action__;loginEmail\nupsert;${email('s')}\n` }],
    ['check comment', 'POST', (x) => `${MP}/users/imports/check?comment=${x}`, { type: CSV, payload: () => `__action__;loginEmail\ncreate;${email('c')}\n` }],
    ['template companyId', 'GET', (x) => `${MP}/users/template?companyId=${x}`],
    ['login urls uid', 'GET', (x) => `${AUTH}/urls?uid=${x}`],
  ]

  it.each(['%00', 'a%00b', '%ED%A0%80', 'x%ED%B0%80', 'x'.repeat(120)])('%s in every path parameter and text query value is a 4xx envelope', async (bad) => {
    for (const [name, method, url, body] of routes) {
      const res = await inject(method, url(bad), body ? { type: body.type, payload: body.payload() } : undefined)
      expect(res.statusCode, `${name}: ${res.body.slice(0, 200)}`).toBeLessThan(500)
      if (res.statusCode >= 400) expectEnvelope(res)
      // A NUL is refused everywhere; an encoded surrogate reaches a query value decoded as U+FFFD.
      else expect(bad, `${name} accepted a NUL`).not.toContain('%00')
    }
  })

  it('a NUL in a path parameter is a 400 naming the parameter, before the database is asked', async () => {
    const res = await inject('GET', `${ADMIN}/pbxs/%00/phonenumbers`)
    expect(expectEnvelope(res, 400)).toMatchObject({ errorDetailsCode: 400000, errorDetails: [{ param: 'pbxId' }] })
    expect(expectEnvelope(await inject('GET', `${MP}/users/imports/a%00/details`), 400).errorDetails).toEqual([expect.objectContaining({ param: 'reqId' })])
  })

  it('a NUL in the label of an import is a 400 that stores nothing', async () => {
    const login = email('label')
    const res = await inject('POST', `${MP}/users/imports?label=a%00b`, { type: CSV, payload: `__action__;loginEmail\ncreate;${login}\n` })
    expect(expectEnvelope(res, 400).errorDetails).toEqual([expect.objectContaining({ param: 'label' })])
    expect(await s.tdb.db.query('SELECT 1 FROM import_lines WHERE login_email = $1', [login])).toHaveLength(0)
  })

  it('a URL the router cannot decode or a path parameter over the limit is the envelope, without the URL', async () => {
    const bad = await app.inject({ method: 'GET', url: `${ADMIN}/pbxs/%ED%A0%80/phonenumbers`, headers: bearer(token) })
    expect(expectEnvelope(bad, 400).errorDetailsCode).toBe(400002)
    expect(bad.body).not.toContain('pbxs')
    const long = await app.inject({ method: 'GET', url: `${ADMIN}/pbxs/${'p'.repeat(150)}/phonenumbers`, headers: bearer(token) })
    expect(expectEnvelope(long, 414).errorDetailsCode).toBe(414000)
    expect(long.body).not.toContain('ppppp')
  })

  it('an unknown route echoes its path percent-encoded and cut short, never as sent', async () => {
    const res = await app.inject({ method: 'GET', url: `${MP}/<script>alert(1)</script>"\u00e9` })
    const body = expectEnvelope(res, 404)
    expect(body.errorDetails).toBe(`Route GET ${MP}/%3Cscript%3Ealert(1)%3C/script%3E%22%C3%A9 not found`)
    expect(res.body).not.toContain('<script>')
    const long = expectEnvelope(await app.inject({ method: 'GET', url: `/${'z'.repeat(5000)}` }), 404)
    expect(long.errorDetails).toBe(`Route GET /${'z'.repeat(199)}... not found`)
  })

  it('an identifier a 404 names (user, PBX, import, command, company) comes back percent-encoded, never as sent', async () => {
    // Found by the random-URL property test: the user route echoed `<q"z>users` as decoded.
    const cases = [
      `${ADMIN}/users/%3Cq%22z%3Eusers`,
      `${ADMIN}/pbxs/%3Cq%22z%3E/phonenumbers`,
      `${MP}/users/imports/%3Cq%22z%3E/details`,
      `${MP}/users/imports/synchronize/check/%3Cq%22z%3E/report`,
      '/api/rainbow/enduser/v1.0/users/%3Cq%22z%3E',
    ]
    for (const url of cases) {
      const res = await app.inject({ method: 'GET', url, headers: bearer(token) })
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, url).toBeLessThan(500)
      expect(res.body, url).not.toContain('<q')
    }
    expect(expectEnvelope(await app.inject({ method: 'GET', url: cases[0]!, headers: bearer(token) }), 404).errorDetails).toBe('User %3Cq%22z%3Eusers not found')
  })

  it('a NUL in the login of Basic credentials is a 401, not a 500', async () => {
    const res = await app.inject({ method: 'GET', url: `${AUTH}/login`, headers: { authorization: basic(`a\u0000${s.world.adminA.email}`, PASSWORD) } })
    expect(expectEnvelope(res, 401).errorDetailsCode).toBe(401520)
  })

  it('a NUL in the application id of x-rainbow-app-auth is a 403, on login and on a Bearer call', async () => {
    const appAuth = basic('6b10\u0000', 'f'.repeat(64))
    const onLogin = await app.inject({ method: 'GET', url: `${AUTH}/login`, headers: { authorization: basic(s.world.adminA.email, PASSWORD), 'x-rainbow-app-auth': appAuth } })
    expect(expectEnvelope(onLogin, 403).errorDetailsCode).toBe(403500)
    const onCall = await app.inject({ method: 'GET', url: `${ADMIN}/pbxs`, headers: { ...bearer(token), 'x-rainbow-app-auth': appAuth } })
    expectEnvelope(onCall, 403)
  })

  it('a JSON body nested deeper than 64 levels is a 400 (400001) and stores nothing; 64 levels pass', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    for (const payload of [
      `{"status":"failure","details":${deep(20_000)}}`,
      `{"status":"failure","details":{"a":${deep(5_000)}}}`,
      `{"status":"failure","details":{"a":${'{"b":'.repeat(3_000)}1${'}'.repeat(3_000)}}}`,
      deep(60_000),
    ]) {
      const res = await inject('POST', `${MP}/users/imports/synchronize/cmd-deep/report`, { type: 'application/json', payload })
      expect(expectEnvelope(res, 400).errorDetailsCode).toBe(400001)
    }
    expect((await report('cmd-deep')).statusCode).toBe(404)
    expect(await endedFor('cmd-deep')).toHaveLength(0)
    // Brackets inside strings are text, not nesting.
    const text = await inject('POST', `${MP}/users/imports/synchronize/cmd-brackets/report`, { type: 'application/json', payload: JSON.stringify({ status: 'failure', details: '['.repeat(500) }) })
    expect(text.statusCode, text.body).toBe(200)
    const ok = await inject('POST', `${MP}/users/imports/synchronize/cmd-deep-ok/report`, { type: 'application/json', payload: `{"status":"failure","details":${deep(63)}}` })
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('NUL and unpaired surrogates in a report body are kept as U+FFFD: the report is stored and the command ends once', async () => {
    const details = { why: 'bad\u0000byte', lone: 'x\ud800y', low: '\udc00', pair: '\ud83d\ude00', 'k\u0000ey': ['\u0000'], literal: '\\u0000' }
    const res = await inject('POST', `${MP}/users/imports/synchronize/cmd-nul/report`, { type: 'application/json', payload: JSON.stringify({ status: 'failure', details }) })
    expect(res.statusCode, res.body).toBe(200)
    const stored = { why: 'bad\ufffdbyte', lone: 'x\ufffdy', low: '\ufffd', pair: '\ud83d\ude00', 'k\ufffdey': ['\ufffd'], literal: '\\u0000' }
    expect(res.json()).toEqual({ status: 'failure', report: { details: stored } })
    expect((await report('cmd-nul')).json()).toEqual({ status: 'failure', report: { details: stored } })
    const text = await inject('POST', `${MP}/users/imports/synchronize/cmd-nul-text/report`, { type: 'application/json', payload: '{"status":"success","details":"a\\u0000b\\ud800"}' })
    expect(text.json()).toEqual({ status: 'success', report: { details: 'a\ufffdb\ufffd' } })
    expect(await endedFor('cmd-nul')).toHaveLength(1)
    expect(await endedFor('cmd-nul-text')).toHaveLength(1)
  })

  it('an import with a NUL in a cell fails that line with 3003, as the check says, and applies the rest', async () => {
    const good = email('good')
    const nulCell = email('nulcell')
    const nulLogin = email('nullogin')
    const body = `__action__;loginEmail;firstName\ncreate;${good};Ann\ncreate;${nulCell};A\u0000nn\ncreate;x\u0000${nulLogin};Bob\n`
    const check = await inject('POST', `${MP}/users/imports/check`, { type: CSV, payload: body })
    expect(check.statusCode, check.body).toBe(200)
    const checked = check.json<{ data: { errors: Array<{ lineNumber: number, code: number, column?: string }> } }>().data.errors
    expect(checked).toEqual([
      expect.objectContaining({ lineNumber: 3, code: 3003, column: 'firstName' }),
      expect.objectContaining({ lineNumber: 4, code: 3003, column: 'loginEmail' }),
    ])

    const res = await inject('POST', `${MP}/users/imports`, { type: CSV, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    const reqId = res.json<{ data: { reqId: string } }>().data.reqId
    await runImport({ db: s.tdb.db, logger, xmppDomain: 'localhost', chunkSize: 1000 }, reqId)
    const details = (await inject('GET', `${MP}/users/imports/${reqId}/details`)).json<{ data: { status: string, counters: object, report: Array<{ lineNumber: number, status: string, errorCode?: number, line?: string }> } }>().data
    expect(details.status).toBe('Terminated')
    expect(details.counters).toMatchObject({ succeeded: 1, failed: 2, total: 3 })
    expect(details.report.map((e) => [e.lineNumber, e.status, e.errorCode])).toEqual([[2, 'success', undefined], [3, 'failed', 3003], [4, 'failed', 3003]])
    expect(await s.tdb.db.query('SELECT 1 FROM users WHERE login_email = $1', [good])).toHaveLength(1)
    expect(await s.tdb.db.query('SELECT 1 FROM users WHERE login_email = $1', [nulCell])).toHaveLength(0)
  })

  it('a synchronize with commandId whose file has a NUL cell runs, and its command ends as a failure with one command_ended', async () => {
    const body = `__action__;loginEmail;firstName\nupsert;${email('sync-ok')};Ann\nupsert;${email('sync-nul')};A\u0000nn\n`
    const res = await inject('POST', `${MP}/users/imports/synchronize?commandId=cmd-sync-nul`, { type: CSV, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    await runImport({ db: s.tdb.db, logger, xmppDomain: 'localhost', chunkSize: 1000 }, res.json<{ data: { reqId: string } }>().data.reqId)
    expect((await report('cmd-sync-nul')).json()).toMatchObject({ status: 'failure', report: { status: 'Terminated', counters: { succeeded: 1, failed: 1 } } })
    expect(await endedFor('cmd-sync-nul')).toHaveLength(1)
  })

  it('a synchronize with commandId refused for a NUL in its query ends the command, as a failure with the error', async () => {
    for (const [commandId, query] of [['cmd-sync-label', 'label=a%00'], ['cmd-sync-ldap', 'ldapConfigId=x%00'], ['cmd-sync-delim', 'delimiter=%00']]) {
      const res = await inject('POST', `${MP}/users/imports/synchronize?commandId=${commandId}&${query}`, { type: CSV, payload: `__action__;loginEmail\nupsert;${email('q')}\n` })
      const error = expectEnvelope(res, 400)
      expect((await report(commandId!)).json(), commandId).toEqual({ status: 'failure', report: { error } })
      expect(await endedFor(commandId!), commandId).toHaveLength(1)
    }
  })

  it('synchronize/check with commandId: a NUL cell is a line error 3003 in a stored failure report; a NUL in the query is a 400 that ends the command', async () => {
    const body = `__action__;loginEmail;firstName\nupsert;x\u0000${email('chk')};A\u0000nn\n`
    const res = await inject('POST', `${MP}/users/imports/synchronize/check?commandId=cmd-check-nul`, { type: CSV, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    const stored = (await report('cmd-check-nul', true)).json<{ status: string, report: { errors: Array<{ code: number }> } }>()
    expect(stored.status).toBe('failure')
    expect(stored.report.errors.map((e) => e.code)).toEqual([3003, 3003])
    expect(JSON.stringify(stored)).not.toContain('\\u0000')
    expect(await endedFor('cmd-check-nul')).toHaveLength(1)

    const refused = await inject('POST', `${MP}/users/imports/synchronize/check?commandId=cmd-check-q&comment=%00`, { type: CSV, payload: '__action__;loginEmail\n' })
    const error = expectEnvelope(refused, 400)
    expect((await report('cmd-check-q', true)).json()).toEqual({ status: 'failure', report: { error } })
    expect(await endedFor('cmd-check-q')).toHaveLength(1)
  })
})
