import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { finishImport, insertImport } from '../../../src/db/imports-repository.js'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { PlanCodes } from '../../../src/provisioning/codes.js'
import { verifyPassword } from '../../../src/services/passwords.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { addUser, buildImportApp, holdNumber, MP, type ImportApp } from '../../jobs/helpers/import-app.js'

// Issue 18: POST /users/imports/:reqId/revert and /revert/check end to end through the in-process
// queue and the real job; the company's users and numbers are compared through the admin API.

const CSV = 'text/csv; charset=utf-8'
const ADMIN = '/api/rainbow/admin/v1.0'
const HEX64 = /^[0-9a-f]{64}$/

interface Summary { reqId: string, status: string, mode: string, operation?: string, reverts?: string, companyId: string }
interface Entry { lineNumber: number, action: string, loginEmail: string, status: string, userId?: string, errorCode?: number, errorMsg?: string, line?: string }
interface Details { reqId: string, status: string, mode: string, operation?: string, reverts?: string | null, revertedBy: string | null, counters: Record<string, number>, report?: Entry[] }
interface PlanLine { lineNumber: number, action: string, loginEmail: string, outcome: string, status: string, userId?: string, changes?: Record<string, { from: unknown, to: unknown }>, device?: Record<string, unknown>, errorCode?: number }
interface CheckData { reqId: string, mode: string, actions: Record<string, number>, errors: Array<{ lineNumber: number, code: number, message: string }>, plan?: PlanLine[], operation: string, reverts: string }

const tag = () => newId().slice(-10)

describe.each(dbKinds())('revert of an import on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  let stalled: ImportApp

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    ia = await buildImportApp(tdb.db, { chunkSize: 2, maxDeletePercent: 100 }) // the safeguard has its own tests; these files delete on purpose
    stalled = await buildImportApp(tdb.db, { queue: false, maxDeletePercent: 100 })
  })
  afterAll(async () => {
    await ia?.queue?.drained()
    await ia?.queue?.close()
    await ia?.app.close()
    await stalled?.app.close()
    await tdb?.close()
  })

  const inject = (method: 'GET' | 'POST', url: string, token: string, opts: { body?: string, on?: ImportApp } = {}) => (opts.on ?? ia).app.inject({
    method,
    url,
    headers: { ...bearer(token), accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': CSV } : {}) },
    ...(opts.body !== undefined ? { payload: opts.body } : {}),
  })

  async function importFile (token: string, path: '/users/imports' | '/users/imports/synchronize', body: string): Promise<string> {
    const res = await inject('POST', `${MP}${path}`, token, { body })
    expect(res.statusCode, res.body).toBe(200)
    await ia.queue!.drained()
    return res.json<{ data: Summary }>().data.reqId
  }
  const details = async (token: string, reqId: string) => {
    const res = await inject('GET', `${MP}/users/imports/${reqId}/details`, token)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ data: Details }>().data
  }
  const revertCheck = (token: string, reqId: string, query = '') => inject('POST', `${MP}/users/imports/${reqId}/revert/check${query}`, token)
  async function revert (token: string, reqId: string): Promise<{ summary: Summary, details: Details }> {
    const res = await inject('POST', `${MP}/users/imports/${reqId}/revert`, token)
    expect(res.statusCode, res.body).toBe(200)
    const summary = res.json<{ data: Summary }>().data
    await ia.queue!.drained()
    return { summary, details: await details(token, summary.reqId) }
  }

  /** The company's users and its PBX's numbers as the admin API shows them; lastUpdateDate aside (a revert is a change). */
  async function companyState (w: World, token: string, pbxId: string) {
    const users = await inject('GET', `${ADMIN}/users?companyId=${w.companyA}&limit=1000`, token)
    expect(users.statusCode, users.body).toBe(200)
    const numbers = await inject('GET', `${ADMIN}/pbxs/${pbxId}/phonenumbers`, token)
    expect(numbers.statusCode, numbers.body).toBe(200)
    const list = users.json<{ data: Array<Record<string, unknown>> }>().data
      .map(({ lastUpdateDate: _l, ...u }) => u)
      .sort((a, b) => String(a.id).localeCompare(String(b.id)))
    const hashes = await tdb.db.query<{ id: string, h: string | null }>('SELECT id, password_hash AS h FROM users WHERE company_id = $1 AND deleted_at IS NULL ORDER BY id', [w.companyA])
    return { users: list, numbers: numbers.json<{ data: unknown[] }>().data, hashes }
  }

  async function setUp () {
    const w = await createWorld(tdb.db)
    const token = await login(ia.app, w.adminA.email, PASSWORD)
    const pbx = (await listPbxs(tdb.db, w.companyA))[0]!.pbxId
    const t = tag()
    const e = Object.fromEntries(['u1', 'u2', 'u3', 'u4', 'u5', 'n1'].map((k) => [k, `rv-${k}-${t}@example.com`])) as Record<string, string>
    return { w, token, pbx, t, e }
  }

  it('reverts a synchronize that updates, clears, deletes, creates and moves numbers: users and numbers as before, field by field; a revert of the revert restores its result', async () => {
    const { w, token, pbx, t, e } = await setUp()
    const oldSecret = `Old9!${t}Pw`
    const newSecret = `New9!${t}Pw`
    await importFile(token, '/users/imports', [
      '__action__;loginEmail;password;firstName;lastName;jobTitle;tags0;tags1',
      `create;${e.u1};;One;Last1;Job1;a;b`,
      `create;${e.u2};;Two;Last2;;c;`,
      `create;${e.u3};;Three;Last3;Job3;;`,
      `create;${e.u4};${oldSecret};Four;Last4;Job4;;`,
      `create;${e.u5};;Five;Last5;Job5;d;`,
    ].join('\n') + '\n')
    const ids = Object.fromEntries(await Promise.all(['u1', 'u2', 'u3', 'u4', 'u5'].map(async (k) =>
      [k, (await tdb.db.query<{ id: string }>('SELECT id FROM users WHERE login_email = $1 AND deleted_at IS NULL', [e[k]]))[0]!.id]))) as Record<string, string>
    await holdNumber(tdb.db, ids.u1!, pbx, '2000')
    const before = await companyState(w, token, pbx)

    const sync = await importFile(token, '/users/imports/synchronize', [
      '__action__;loginEmail;password;firstName;jobTitle;tags0;pbxId;pbxShortNumber',
      `sync;${e.u1};;NewOne;;;;`, // 2: firstName changed, jobTitle and tags0 cleared, 2000 detached
      `upsert;${e.u2};;;Boss;;${pbx};2001`, // 3: jobTitle set, 2001 attached
      `delete;${e.u3};;;;;;`, // 4
      `sync;${e.n1};;Neo;Dev;t;${pbx};2000`, // 5: created, takes 2000 that line 2 freed
      `upsert;${e.u4};${newSecret};;;;;`, // 6: password changed
      `upsert;${e.u5};;;;z;;`, // 7: first tag changed
    ].join('\n') + '\n')
    expect((await details(token, sync)).counters).toEqual({ succeeded: 6, failed: 0, warnings: 0, total: 6 })
    const after = await companyState(w, token, pbx)
    expect(after).not.toEqual(before)

    // The dry run: every line, last line first, with what it would put back; nothing changes.
    const check = await revertCheck(token, sync)
    expect(check.statusCode, check.body).toBe(200)
    const data = check.json<{ data: CheckData }>().data
    expect(data).toMatchObject({ operation: 'revert', reverts: sync, mode: 'useranddevice', errors: [], actions: { delete: 1, restore: 1, update: 4, attach: 0, detach: 0, unchanged: 0 } })
    expect(data.reqId).toMatch(HEX64)
    expect(data.plan!.map((p) => [p.lineNumber, p.outcome, p.status])).toEqual([
      [7, 'update', 'success'], [6, 'update', 'success'], [5, 'delete', 'success'], [4, 'restore', 'success'], [3, 'update', 'success'], [2, 'update', 'success'],
    ])
    expect(data.plan![1]!.changes).toEqual({ password: { from: 'hidden', to: 'restored' } })
    expect(data.plan![5]!.changes).toEqual({ firstName: { from: 'NewOne', to: 'One' }, jobTitle: { from: null, to: 'Job1' }, tags: { from: ['b'], to: ['a', 'b'] } })
    expect(data.plan![5]!.device).toMatchObject({ outcome: 'attach', pbxId: pbx, shortNumber: '2000' })
    expect(JSON.stringify(data)).not.toContain('$argon2')
    const noPlan = (await revertCheck(token, sync, '?plan=false')).json<{ data: CheckData }>().data
    expect(noPlan.plan).toBeUndefined()
    expect(noPlan.actions).toEqual(data.actions)
    expect(await companyState(w, token, pbx)).toEqual(after)

    const { summary, details: rd } = await revert(token, sync)
    expect(summary).toMatchObject({ reqId: data.reqId, status: 'Pending', operation: 'revert', reverts: sync, companyId: w.companyA, mode: 'useranddevice' })
    expect(rd).toMatchObject({ status: 'Terminated', operation: 'revert', reverts: sync, revertedBy: null, counters: { succeeded: 6, failed: 0, warnings: 0, total: 6 } })
    expect(rd.report!.map((r) => [r.lineNumber, r.loginEmail, r.status])).toEqual([
      [7, e.u5, 'success'], [6, e.u4, 'success'], [5, e.n1, 'success'], [4, e.u3, 'success'], [3, e.u2, 'success'], [2, e.u1, 'success'],
    ])
    expect(await companyState(w, token, pbx)).toEqual(before)
    const u4 = await tdb.db.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [ids.u4])
    expect(await verifyPassword(u4[0]!.h, oldSecret)).toBe(true)
    // The reverted import says so, in its report and in the list.
    expect((await details(token, sync)).revertedBy).toBe(summary.reqId)
    const list = (await inject('GET', `${MP}/users/imports`, token)).json<{ data: Details[] }>().data
    expect(list.find((i) => i.reqId === sync)).toMatchObject({ revertedBy: summary.reqId })
    expect(list.find((i) => i.reqId === summary.reqId)).toMatchObject({ operation: 'revert', reverts: sync, revertedBy: null })

    // Twice: 409, naming the revert.
    const again = await inject('POST', `${MP}/users/imports/${sync}/revert`, token)
    expect(again.statusCode).toBe(409)
    expect(again.json<{ errorDetails: string }>().errorDetails).toContain(summary.reqId)

    // A revert of the revert restores the import's result.
    const twice = await revert(token, summary.reqId)
    expect(twice.details).toMatchObject({ status: 'Terminated', operation: 'revert', reverts: summary.reqId, counters: { succeeded: 6, failed: 0, warnings: 0, total: 6 } })
    expect(twice.details.report!.map((r) => r.lineNumber)).toEqual([2, 3, 4, 5, 6, 7])
    expect(await companyState(w, token, pbx)).toEqual(after)
    const u4Again = await tdb.db.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [ids.u4])
    expect(await verifyPassword(u4Again[0]!.h, newSecret)).toBe(true)
  })

  it('a line changed since is a conflict with its own code; the other lines revert', async () => {
    const { w, token, pbx, e } = await setUp()
    await importFile(token, '/users/imports', [
      '__action__;loginEmail;firstName;jobTitle',
      `create;${e.u1};One;Job1`,
      `create;${e.u2};Two;Job2`,
      `create;${e.u3};Three;Job3`,
      `create;${e.u4};Four;Job4`,
      `create;${e.u5};Five;Job5`,
    ].join('\n') + '\n')
    const other = await addUser(tdb.db, w.companyA, `rv-other-${tag()}@example.com`)
    const sync = await importFile(token, '/users/imports/synchronize', [
      '__action__;loginEmail;firstName;jobTitle;pbxId;pbxShortNumber',
      `upsert;${e.u1};Changed1;;;`, // 2: changed again by hand below: 3111
      `upsert;${e.u2};Changed2;;;`, // 3: reverts
      `delete;${e.u3};;;;`, // 4: its e-mail is taken by hand below: 3112
      `upsert;${e.u4};;;${pbx};2001`, // 5: the number is given to someone else by hand: 3113
      `upsert;${e.u5};Changed5;;;`, // 6: the user is deleted by hand: 3114
    ].join('\n') + '\n')
    await tdb.db.query('UPDATE users SET first_name = $2 WHERE login_email = $1 AND deleted_at IS NULL', [e.u1, 'ByHand'])
    await addUser(tdb.db, w.companyA, e.u3!)
    await holdNumber(tdb.db, other, pbx, '2001')
    await tdb.db.query('UPDATE users SET deleted_at = now() WHERE login_email = $1 AND deleted_at IS NULL', [e.u5])

    const check = (await revertCheck(token, sync)).json<{ data: CheckData }>().data
    expect(check.errors.map((x) => [x.lineNumber, x.code])).toEqual([
      [6, PlanCodes.revertUserDeleted], [5, PlanCodes.revertNumberChanged], [4, PlanCodes.revertLoginEmailTaken], [2, PlanCodes.revertValueChanged],
    ])
    expect(check.errors.find((x) => x.lineNumber === 2)!.message).toContain('firstName')
    expect(check.actions).toMatchObject({ update: 1 })

    const { details: rd } = await revert(token, sync)
    expect(rd.counters).toEqual({ succeeded: 1, failed: 4, warnings: 0, total: 5 })
    expect(rd.report!.map((r) => [r.lineNumber, r.status, r.errorCode ?? null])).toEqual([
      [6, 'failed', 3114], [5, 'failed', 3113], [4, 'failed', 3112], [3, 'success', null], [2, 'failed', 3111],
    ])
    // Failed lines show the line of the file they undo.
    expect(rd.report!.find((r) => r.lineNumber === 2)!.line).toBe(`upsert;${e.u1};Changed1;;;`)
    const names = await tdb.db.query<{ e: string, f: string }>('SELECT login_email AS e, first_name AS f FROM users WHERE login_email = ANY($1) AND deleted_at IS NULL', [[e.u1, e.u2]])
    expect(Object.fromEntries(names.map((r) => [r.e, r.f]))).toEqual({ [e.u1!]: 'ByHand', [e.u2!]: 'Two' })
    const held = await tdb.db.query<{ u: string }>('SELECT n.user_id AS u FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id WHERE s.pbx_id = $1 AND n.short_number = $2', [pbx, '2001'])
    expect(held[0]!.u).toBe(other)
  })

  it('tenancy and state: another company\'s import is 404, an unknown one 404, a Rainbow Voice one 409, a Pending one 409', async () => {
    const { w, token, e } = await setUp()
    const tokenB = await login(ia.app, w.adminB.email, PASSWORD)
    const done = await importFile(token, '/users/imports', `__action__;loginEmail;firstName\ncreate;${e.u1};One\n`)
    for (const path of ['revert', 'revert/check']) {
      const res = await inject('POST', `${MP}/users/imports/${done}/${path}`, tokenB)
      expect(res.statusCode, res.body).toBe(404)
      expect(res.json<{ errorDetailsCode: number }>().errorDetailsCode).toBe(404000)
      // Named in the caller's own company, it is still missing there.
      expect((await inject('POST', `${MP}/users/imports/${done}/${path}?companyId=${w.companyB}`, tokenB)).statusCode).toBe(404)
      expect((await inject('POST', `${MP}/users/imports/${'0'.repeat(64)}/${path}`, token)).statusCode).toBe(404)
    }
    // Nothing was reverted by those refusals.
    expect((await details(token, done)).revertedBy).toBeNull()

    // With a connector's commandId, the revert ends its command as an import does.
    const commandId = `rv-cmd-${tag()}`
    const withCommand = await inject('POST', `${MP}/users/imports/${done}/revert?commandId=${commandId}`, token)
    expect(withCommand.statusCode, withCommand.body).toBe(200)
    await ia.queue!.drained()
    const command = await inject('GET', `${MP}/users/imports/synchronize/${commandId}/report`, token)
    expect(command.statusCode, command.body).toBe(200)
    expect(command.json()).toMatchObject({ status: 'success', report: { reqId: withCommand.json<{ data: Summary }>().data.reqId, counters: { succeeded: 1, failed: 0, total: 1 } } })

    // A Rainbow Voice import is not reverted: 409 naming why, before any planning.
    const voiceId = createHash('sha256').update(`voice-${tag()}`).digest('hex')
    await insertImport(tdb.db, { reqId: voiceId, companyId: w.companyA, operation: 'rainbowvoice', mode: 'rainbowvoice', label: null, options: {}, commandId: null, requesterId: w.adminA.id, requesterDisplayName: null, total: 0 })
    await finishImport(tdb.db, voiceId, 'Terminated', null)
    for (const path of ['revert', 'revert/check']) {
      const res = await inject('POST', `${MP}/users/imports/${voiceId}/${path}`, token)
      expect(res.statusCode, res.body).toBe(409)
      expect(res.json<{ errorDetails: string }>().errorDetails).toContain('Rainbow Voice')
    }

    const pending = await inject('POST', `${MP}/users/imports`, token, { body: `__action__;loginEmail;firstName\ncreate;${e.u2};Two\n`, on: stalled })
    expect(pending.statusCode, pending.body).toBe(200)
    const pendingId = pending.json<{ data: Summary }>().data.reqId
    for (const path of ['revert', 'revert/check']) {
      const res = await inject('POST', `${MP}/users/imports/${pendingId}/${path}`, token, { on: stalled })
      expect(res.statusCode, res.body).toBe(409)
      expect(res.json<{ errorDetails: string }>().errorDetails).toContain('Pending')
    }
  })
})
