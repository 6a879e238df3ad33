import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pino from 'pino'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { runImport } from '../../../src/jobs/import-job.js'
import { verifyPassword } from '../../../src/services/passwords.js'
import { loadInventory } from '../../../src/services/pbx-inventory.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { addUser, buildImportApp, holdNumber, MP, numberOf, reqIdOf, type ImportApp } from '../../jobs/helpers/import-app.js'

// POST /users/imports and /users/imports/synchronize end to end through the in-process queue and the
// real job: the answer, the report (D3), the database afterwards, the duplicate rules (D2, D6) and tenancy (D12).

const CSV = 'text/csv; charset=utf-8'
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const HEX64 = /^[0-9a-f]{64}$/

interface Summary { reqId: string, mode: string, status: string, userId: string, displayName: string, label: string | null, startTime: string, companyId: string }
interface Entry { lineNumber: number, action: string, loginEmail: string, status: string, userId?: string, errorCode?: number, errorMsg?: string, line?: string }
interface Counters { succeeded: number, failed: number, warnings: number, total: number, processed?: number }
interface Details {
  reqId: string
  status: string
  mode: string
  userId: string
  displayName: string
  label: string
  companyId: string
  startTime: string
  endTime?: string
  counters: Counters
  report?: Entry[]
}
interface UserDbRow {
  id: string
  company_id: string
  login_email: string
  password_hash: string | null
  first_name: string | null
  last_name: string | null
  job_title: string | null
  tags: string[]
  phone_numbers: Array<Record<string, unknown>>
  deleted_at: Date | null
}

const tag = () => newId().slice(-10)

/** One expected report entry: exactly these keys (D3), `line` only on failures. */
function entry (lineNumber: number, action: string, loginEmail: string, status: 'success' | 'failed' | 'warning', extra: { userId?: string, errorCode?: number, line?: string } = {}): Entry {
  return {
    lineNumber,
    action,
    loginEmail,
    status,
    ...(extra.userId ? { userId: extra.userId } : {}),
    ...(extra.errorCode ? { errorCode: extra.errorCode, errorMsg: expect.any(String) as unknown as string } : {}),
    ...(extra.line !== undefined ? { line: extra.line } : {}),
  }
}

describe.each(dbKinds())('import routes with the in-process job on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  /** Same database, no queue: imports stay Pending. */
  let stalled: ImportApp
  let world: World
  const tokens = { adminA: '', adminB: '', orgAdmin: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    // A small chunk, so the route tests also cross chunk boundaries.
    ia = await buildImportApp(tdb.db, { chunkSize: 3 })
    stalled = await buildImportApp(tdb.db, { queue: false })
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'adminB', 'orgAdmin'] as const) tokens[who] = await login(ia.app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await ia?.queue?.drained()
    await ia?.queue?.close()
    await ia?.app.close()
    await stalled?.app.close()
    await tdb?.close()
  })

  const post = (path: '/users/imports' | '/users/imports/synchronize', body: string, opts: { token?: string, query?: string, on?: ImportApp } = {}) =>
    (opts.on ?? ia).app.inject({
      method: 'POST',
      url: `${MP}${path}${opts.query ? `?${opts.query}` : ''}`,
      headers: { ...bearer(opts.token ?? tokens.adminA), 'content-type': CSV, accept: 'application/json' },
      payload: body,
    })
  const getDetails = (reqId: string, opts: { token?: string, format?: 'small' | 'full', on?: ImportApp } = {}) => (opts.on ?? ia).app.inject({
    method: 'GET',
    url: `${MP}/users/imports/${reqId}/details${opts.format ? `?format=${opts.format}` : ''}`,
    headers: { ...bearer(opts.token ?? tokens.adminA), accept: 'application/json' },
  })
  const deleteReport = (reqId: string, opts: { token?: string, noBody?: boolean } = {}) => ia.app.inject({
    method: 'DELETE',
    url: `${MP}/users/imports/${reqId}/details`,
    ...(opts.noBody
      ? { headers: bearer(opts.token ?? tokens.adminA) }
      // What the SDK sends (contract §2 row 5): a JSON body {}, to be accepted and ignored.
      : { headers: { ...bearer(opts.token ?? tokens.adminA), 'content-type': 'application/json', accept: 'application/json' }, payload: '{}' }),
  })

  /** Posts, checks the immediate answer, waits for the job, returns the answer and the full report. */
  async function run (path: '/users/imports' | '/users/imports/synchronize', body: string, opts: { token?: string, query?: string } = {}) {
    const res = await post(path, body, opts)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const summary = res.json<{ data: Summary }>().data
    expect(summary.status).toBe('Pending')
    await ia.queue!.drained()
    const full = await getDetails(summary.reqId, { token: opts.token })
    expect(full.statusCode, full.body).toBe(200)
    expect(full.headers['content-type']).toMatch(/^application\/json/)
    return { summary, details: full.json<{ data: Details }>().data, raw: full.body }
  }

  const userByEmail = async (email: string) =>
    (await tdb.db.query<UserDbRow>('SELECT * FROM users WHERE login_email = $1 ORDER BY created_at', [email.toLowerCase()]))
  const liveUser = async (email: string) => {
    const rows = (await userByEmail(email)).filter((u) => u.deleted_at === null)
    expect(rows, `live users ${email}`).toHaveLength(1)
    return rows[0]!
  }
  const importLinesText = async (reqId: string) =>
    JSON.stringify(await tdb.db.query('SELECT * FROM import_lines WHERE req_id = $1', [reqId]))

  it('user mode: create, update, delete; the answer, the report in file order, the database; no password anywhere', async () => {
    const t = tag()
    const secret = `Zq9!${t}Secret`
    const weak = `weak${t}pw`
    const e = {
      new1: `new1-${t}@example.com`,
      new2: `new2-${t}@example.com`,
      upd: `upd-${t}@example.com`,
      del: `del-${t}@example.com`,
      ghost: `ghost-${t}@example.com`,
      bad: `bad-${t}@example.com`,
    }
    const updId = await addUser(tdb.db, world.companyA, e.upd, { firstName: 'Upd', jobTitle: 'Old job' })
    const delId = await addUser(tdb.db, world.companyA, e.del)
    const body = [
      '__action__;loginEmail;password;firstName;lastName;jobTitle;tags0;tags1;businessPhone0',
      `create;${e.new1.toUpperCase()};${secret};Ann;One;Dev;red;blue;+33123456789`,
      `create;${e.new2};;Bob;Two;;;;`,
      `update;${e.upd};;;;New job;;;`,
      '% a comment line: skipped but counted',
      `delete;${e.del};;;;;;;`,
      `create;${world.adminA.email};;Mallory;;;;;`,
      `update;${e.ghost};;;;Boss;;;`,
      `create;${e.bad};${weak};Bad;;;;;`,
    ].join('\n') + '\n'

    // One deletion: confirmed, since this company may be small enough for it to need it (deletion safeguard).
    const res = await post('/users/imports', body, { query: 'label=users%20batch%201&noemails=true&nostrict=false&comment=%25&confirmDeletes=1' })
    expect(res.statusCode, res.body).toBe(200)
    const answer = res.json<{ data: Summary }>()
    expect(Object.keys(answer)).toEqual(['data'])
    expect(answer.data).toEqual({
      reqId: reqIdOf(world.companyA, 'import', body),
      mode: 'user',
      status: 'Pending',
      userId: world.adminA.id,
      displayName: world.adminA.email,
      label: 'users batch 1',
      startTime: expect.stringMatching(ISO),
      companyId: world.companyA,
    })
    await ia.queue!.drained()

    const full = await getDetails(answer.data.reqId)
    expect(full.statusCode).toBe(200)
    const d = full.json<{ data: Details }>().data
    expect(d).toMatchObject({ reqId: answer.data.reqId, status: 'Terminated', mode: 'user', userId: world.adminA.id, label: 'users batch 1', companyId: world.companyA, startTime: answer.data.startTime })
    expect(d.endTime).toMatch(ISO)
    expect(d.counters).toEqual({ succeeded: 4, failed: 3, warnings: 0, total: 7 })

    const new1 = await liveUser(e.new1)
    const new2 = await liveUser(e.new2)
    expect(d.report).toEqual([
      entry(2, 'create', e.new1, 'success', { userId: new1.id }),
      entry(3, 'create', e.new2, 'success', { userId: new2.id }),
      entry(4, 'update', e.upd, 'success', { userId: updId }),
      entry(6, 'delete', e.del, 'success', { userId: delId }),
      entry(7, 'create', world.adminA.email, 'failed', { errorCode: 409600, line: `create;${world.adminA.email};;Mallory;;;;;` }),
      entry(8, 'update', e.ghost, 'failed', { errorCode: 3101, line: `update;${e.ghost};;;;Boss;;;` }),
      // The password cell is blanked in the raw line (D3, D10).
      entry(9, 'create', e.bad, 'failed', { errorCode: 3011, line: `create;${e.bad};;Bad;;;;;` }),
    ])

    // The database: an argon2id hash that verifies, fields as given, the update only touched the filled cell.
    expect(new1).toMatchObject({ company_id: world.companyA, login_email: e.new1, first_name: 'Ann', last_name: 'One', job_title: 'Dev', tags: ['red', 'blue'], deleted_at: null })
    expect(new1.phone_numbers).toEqual([expect.objectContaining({ number: '+33123456789', deviceType: 'landline' })])
    expect(new1.password_hash).toMatch(/^\$argon2id\$/)
    expect(await verifyPassword(new1.password_hash, secret)).toBe(true)
    expect(await verifyPassword(new1.password_hash, `${secret}x`)).toBe(false)
    expect(new2).toMatchObject({ first_name: 'Bob', last_name: 'Two', job_title: null, password_hash: null })
    expect(await liveUser(e.upd)).toMatchObject({ id: updId, first_name: 'Upd', job_title: 'New job' })
    const [deleted] = await userByEmail(e.del)
    expect(deleted).toMatchObject({ id: delId })
    expect(deleted!.deleted_at).toBeInstanceOf(Date)
    expect((await liveUser(world.adminA.email)).first_name).toBeNull()
    expect(await userByEmail(e.ghost)).toEqual([])
    expect(await userByEmail(e.bad)).toEqual([])

    // Never a password: not in the report, not in the stored lines, not in the import row.
    for (const pw of [secret, weak]) {
      expect(full.body).not.toContain(pw)
      expect(await importLinesText(answer.data.reqId)).not.toContain(pw)
      expect(JSON.stringify(await tdb.db.query('SELECT * FROM imports WHERE req_id = $1', [answer.data.reqId]))).not.toContain(pw)
    }

    // format=small: the same, without report.
    const small = await getDetails(answer.data.reqId, { format: 'small' })
    expect(small.statusCode).toBe(200)
    const s = small.json<{ data: Details }>().data
    expect(s).not.toHaveProperty('report')
    expect(s).toEqual(Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'report')))

    // A soft-deleted user's loginEmail is free again: a new user, a new id; the old row stays deleted.
    const again = await run('/users/imports', `__action__;loginEmail;firstName\ncreate;${e.del};Reborn\n`)
    expect(again.details.counters).toEqual({ succeeded: 1, failed: 0, warnings: 0, total: 1 })
    const reborn = await liveUser(e.del)
    expect(reborn.id).not.toBe(delId)
    expect(reborn.first_name).toBe('Reborn')
    expect(again.details.report).toEqual([entry(2, 'create', e.del, 'success', { userId: reborn.id })])
    expect((await userByEmail(e.del)).map((u) => [u.id, u.deleted_at === null])).toEqual([[delId, false], [reborn.id, true]])
  })

  it('device mode: attach, force_attach, detach and every device code a file can produce', async () => {
    const w = await createWorld(tdb.db)
    const token = await login(ia.app, w.adminA.email, PASSWORD)
    const pbxA = (await listPbxs(tdb.db, w.companyA))[0]!.pbxId
    const t = tag()
    const [x1, x2] = [`X1-${t}`, `X2-${t}`]
    await loadInventory(tdb.db, { companyId: w.companyA, pbxId: x1, numbers: ['7000', '7001', '7002'].map((s) => ({ shortNumber: s, internalNumber: null, number: null })) })
    await loadInventory(tdb.db, { companyId: w.companyA, pbxId: x2, numbers: [{ shortNumber: '7000', internalNumber: null, number: null }] })
    const u: Record<string, { email: string, id: string }> = {}
    for (const k of ['a', 'b', 'c', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm']) {
      const email = `dev-${k}-${t}@example.com`
      u[k] = { email, id: await addUser(tdb.db, w.companyA, email) }
    }
    await holdNumber(tdb.db, u.c!.id, x1, '7001')
    await holdNumber(tdb.db, u.j!.id, pbxA, '2001')
    await holdNumber(tdb.db, u.j!.id, x1, '7002')
    await holdNumber(tdb.db, u.k!.id, x2, '7000')
    const ghost = `dev-ghost-${t}@example.com`
    const lines = [
      '__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number',
      `attach;${u.a!.email};${pbxA};2000;+33900002000;+33123002099`, // 2: success
      `attach;${u.b!.email};${pbxA};2000;;`, // 3: 1008, line 2 gave it to a
      `attach;${u.c!.email};${pbxA};2002;;`, // 4: 1007, c holds X1/7001
      `attach;${u.e!.email};NO-SUCH-PBX-${t};2001;;`, // 5: 1001
      `attach;${u.f!.email};${pbxA};9999;;`, // 6: 1003
      `attach;${u.g!.email};;7000;;`, // 7: 1006, 7000 is on X1 and X2
      `force_attach;${u.h!.email};${pbxA};2000;;`, // 8: success, taken from a
      `detach;${u.i!.email};;;;`, // 9: 1010
      `detach;${u.j!.email};;;;`, // 10: 1011
      `detach;${u.k!.email};;;;`, // 11: success
      `attach;${ghost};${pbxA};2002;;`, // 12: 3101
      // 1002 (extensionHasNoIdentifier) cannot come out of a file: the row check refuses an attach
      // without pbxShortNumber first (3002); the planner's 1002 is unit-tested in test/provisioning/plan.test.ts.
      `attach;${u.l!.email};${pbxA};;;`, // 13: 3002
      `force_attach;${u.m!.email};${pbxA};2002;;`, // 14: success (nobody held it)
    ]
    const body = lines.join('\n') + '\n'
    const { summary, details } = await run('/users/imports', body, { token })
    expect(summary).toMatchObject({ mode: 'device', status: 'Pending', companyId: w.companyA, userId: w.adminA.id, label: '' })
    // label is "" when not given, in the answer and in the report alike.
    expect(details.label).toBe('')
    expect(details.status).toBe('Terminated')
    expect(details.counters).toEqual({ succeeded: 4, failed: 9, warnings: 0, total: 13 })
    const failed = (n: number, action: string, email: string, code: number) => entry(n, action, email, 'failed', { errorCode: code, line: lines[n - 1] })
    expect(details.report).toEqual([
      entry(2, 'attach', u.a!.email, 'success', { userId: u.a!.id }),
      failed(3, 'attach', u.b!.email, 1008),
      failed(4, 'attach', u.c!.email, 1007),
      failed(5, 'attach', u.e!.email, 1001),
      failed(6, 'attach', u.f!.email, 1003),
      failed(7, 'attach', u.g!.email, 1006),
      entry(8, 'force_attach', u.h!.email, 'success', { userId: u.h!.id }),
      failed(9, 'detach', u.i!.email, 1010),
      failed(10, 'detach', u.j!.email, 1011),
      entry(11, 'detach', u.k!.email, 'success', { userId: u.k!.id }),
      failed(12, 'attach', ghost, 3101),
      failed(13, 'attach', u.l!.email, 3002),
      entry(14, 'force_attach', u.m!.email, 'success', { userId: u.m!.id }),
    ])
    // The inventory afterwards: 2000 went to a (with its internal and public numbers) then to h.
    expect(await numberOf(tdb.db, pbxA, '2000')).toEqual({ pbxId: pbxA, shortNumber: '2000', userId: u.h!.id, internalNumber: '+33900002000', number: '+33123002099' })
    expect((await numberOf(tdb.db, pbxA, '2001')).userId).toBe(u.j!.id)
    expect((await numberOf(tdb.db, pbxA, '2002')).userId).toBe(u.m!.id)
    expect((await numberOf(tdb.db, x1, '7000')).userId).toBeNull()
    expect((await numberOf(tdb.db, x1, '7001')).userId).toBe(u.c!.id)
    expect((await numberOf(tdb.db, x1, '7002')).userId).toBe(u.j!.id)
    expect((await numberOf(tdb.db, x2, '7000')).userId).toBeNull()
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM phone_numbers WHERE user_id = $1', [u.a!.id])).toEqual([{ n: 0 }])

    // A named detach frees exactly that number of a user who holds two.
    const named = await run('/users/imports', `__action__;loginEmail;pbxId;pbxShortNumber\ndetach;${u.j!.email};${x1};7002\n`, { token })
    expect(named.details.counters).toEqual({ succeeded: 1, failed: 0, warnings: 0, total: 1 })
    expect((await numberOf(tdb.db, x1, '7002')).userId).toBeNull()
    expect((await numberOf(tdb.db, pbxA, '2001')).userId).toBe(u.j!.id)
  })

  it('synchronize: upsert ignores empty cells, sync clears them and detaches the number, detach and delete', async () => {
    const w = await createWorld(tdb.db)
    const token = await login(ia.app, w.adminA.email, PASSWORD)
    const pbxA = (await listPbxs(tdb.db, w.companyA))[0]!.pbxId
    const t = tag()
    const secret = `Sy9!${t}Secret`
    const e = Object.fromEntries(['s1', 's2', 's3', 's4', 's6', 'n1', 'n2', 'ghost'].map((k) => [k, `sync-${k}-${t}@example.com`])) as Record<string, string>
    const s1 = await addUser(tdb.db, w.companyA, e.s1!, { firstName: 'Old1', jobTitle: 'Keep1' })
    const s2 = await addUser(tdb.db, w.companyA, e.s2!, { firstName: 'Old2', jobTitle: 'Job2' })
    const s3 = await addUser(tdb.db, w.companyA, e.s3!)
    const s4 = await addUser(tdb.db, w.companyA, e.s4!)
    await addUser(tdb.db, w.companyA, e.s6!)
    await tdb.db.query('UPDATE users SET tags = $2::text[] WHERE id = ANY($1::text[])', [[s1, s2], ['keep', 'me']])
    await holdNumber(tdb.db, s1, pbxA, '2000')
    await holdNumber(tdb.db, s2, pbxA, '2001')
    await holdNumber(tdb.db, s3, pbxA, '2002')
    const lines = [
      '__action__;loginEmail;password;firstName;jobTitle;tags0;pbxId;pbxShortNumber',
      `upsert;${e.s1};;Newer;;;;`, // 2
      `sync;${e.s2};;Synced;;;;`, // 3
      `detach;${e.s3};;;;;;`, // 4
      `delete;${e.s4};;;;;;`, // 5
      `upsert;${e.n1};${secret};New;Dev;fresh;${pbxA};2001`, // 6: created, takes 2001 that line 3 freed
      `sync;${e.n2};;Fresh;;;;`, // 7: created
      `detach;${e.s6};;;;;;`, // 8: 1010
      `delete;${e.ghost};;;;;;`, // 9: 3101
    ]
    const body = lines.join('\n') + '\n'
    // One real deletion (line 9 deletes no one) in a company of a few users: confirmed (deletion safeguard).
    const { summary, details, raw } = await run('/users/imports/synchronize', body, { token, query: 'label=sync&noemails=true&nostrict=false&comment=%25&confirmDeletes=1' })
    expect(summary).toEqual({
      reqId: reqIdOf(w.companyA, 'synchronize', body),
      mode: 'useranddevice',
      status: 'Pending',
      userId: w.adminA.id,
      displayName: w.adminA.email,
      label: 'sync',
      startTime: expect.stringMatching(ISO),
      companyId: w.companyA,
    })
    expect(details).toMatchObject({ status: 'Terminated', mode: 'useranddevice', label: 'sync' })
    expect(details.counters).toEqual({ succeeded: 6, failed: 2, warnings: 0, total: 8 })
    const n1 = await liveUser(e.n1!)
    const n2 = await liveUser(e.n2!)
    expect(details.report).toEqual([
      entry(2, 'upsert', e.s1!, 'success', { userId: s1 }),
      entry(3, 'sync', e.s2!, 'success', { userId: s2 }),
      entry(4, 'detach', e.s3!, 'success', { userId: s3 }),
      entry(5, 'delete', e.s4!, 'success', { userId: s4 }),
      entry(6, 'upsert', e.n1!, 'success', { userId: n1.id }),
      entry(7, 'sync', e.n2!, 'success', { userId: n2.id }),
      entry(8, 'detach', e.s6!, 'failed', { errorCode: 1010, line: lines[7] }),
      entry(9, 'delete', e.ghost!, 'failed', { errorCode: 3101, line: lines[8] }),
    ])
    // upsert: empty cells leave the fields and the number alone.
    expect(await liveUser(e.s1!)).toMatchObject({ first_name: 'Newer', job_title: 'Keep1', tags: ['keep', 'me'] })
    expect((await numberOf(tdb.db, pbxA, '2000')).userId).toBe(s1)
    // sync: empty cells clear the fields, empty device cells detach the number.
    // The file's tags0 is empty: the first tag is cleared; the second, which no column names, stays.
    expect(await liveUser(e.s2!)).toMatchObject({ first_name: 'Synced', job_title: null, tags: ['me'] })
    expect((await numberOf(tdb.db, pbxA, '2002')).userId).toBeNull()
    expect((await liveUser(e.s3!)).id).toBe(s3)
    expect((await userByEmail(e.s4!))[0]!.deleted_at).toBeInstanceOf(Date)
    expect(n1).toMatchObject({ first_name: 'New', job_title: 'Dev', tags: ['fresh'] })
    expect(await verifyPassword(n1.password_hash, secret)).toBe(true)
    expect((await numberOf(tdb.db, pbxA, '2001')).userId).toBe(n1.id)
    expect(n2).toMatchObject({ first_name: 'Fresh', password_hash: null })
    expect(raw).not.toContain(secret)
    expect(await importLinesText(summary.reqId)).not.toContain(secret)
  })

  it('nostrict=false: create of an existing user and delete of a missing one are failed lines; nothing changes', async () => {
    const t = tag()
    const existing = `strict-${t}@example.com`
    const id = await addUser(tdb.db, world.companyA, existing, { jobTitle: 'Before' })
    const { details } = await run('/users/imports', `__action__;loginEmail;jobTitle\ncreate;${existing};Chief\ndelete;ghost-${t}@example.com;\n`, { query: 'nostrict=false' })
    expect(details.counters).toEqual({ succeeded: 0, failed: 2, warnings: 0, total: 2 })
    expect(details.report).toEqual([
      entry(2, 'create', existing, 'failed', { errorCode: 409600, line: `create;${existing};Chief` }),
      entry(3, 'delete', `ghost-${t}@example.com`, 'failed', { errorCode: 3101, line: `delete;ghost-${t}@example.com;` }),
    ])
    expect(await liveUser(existing)).toMatchObject({ id, job_title: 'Before' })
  })

  it('nostrict=true: create of an existing user updates it; delete of a missing one is a warning', async () => {
    const t = tag()
    const existing = `lenient-${t}@example.com`
    const id = await addUser(tdb.db, world.companyA, existing, { jobTitle: 'Before' })
    const { details } = await run('/users/imports', `__action__;loginEmail;jobTitle\ncreate;${existing};Chief\ndelete;ghost-${t}@example.com;\n`, { query: 'nostrict=true' })
    expect(details.counters).toEqual({ succeeded: 1, failed: 0, warnings: 1, total: 2 })
    expect(details.report).toEqual([
      entry(2, 'create', existing, 'success', { userId: id }),
      entry(3, 'delete', `ghost-${t}@example.com`, 'warning', { errorCode: 3101 }),
    ])
    expect(await liveUser(existing)).toMatchObject({ id, job_title: 'Chief' })
    expect(await userByEmail(existing)).toHaveLength(1)
  })

  it('the same file twice is a 409 naming the reqId; after DELETE of its report it can be imported again', async () => {
    const t = tag()
    const body = `__action__;loginEmail;firstName\ncreate;twice-${t}@example.com;Once\n`
    const first = await run('/users/imports', body)
    expect(first.details.counters).toEqual({ succeeded: 1, failed: 0, warnings: 0, total: 1 })
    // A different label or option does not change the reqId (D2).
    const second = await post('/users/imports', body, { query: 'label=other&nostrict=true' })
    expect(second.statusCode).toBe(409)
    expect(second.json()).toMatchObject({ errorCode: 409, errorMsg: 'Conflict', errorDetailsCode: 409000 })
    expect(String(second.json().errorDetails)).toContain(first.summary.reqId)
    await ia.queue!.drained()
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM imports WHERE req_id = $1', [first.summary.reqId])).toEqual([{ n: 1 }])
    expect(await userByEmail(`twice-${t}@example.com`)).toHaveLength(1)

    const del = await deleteReport(first.summary.reqId)
    expect(del.statusCode, del.body).toBe(200)
    expect(del.json()).toEqual({ data: { reqId: first.summary.reqId, status: 'deleted' } })
    expect((await getDetails(first.summary.reqId)).statusCode).toBe(404)
    expect((await deleteReport(first.summary.reqId)).statusCode).toBe(404)
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM import_lines WHERE req_id = $1', [first.summary.reqId])).toEqual([{ n: 0 }])
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM import_line_results WHERE req_id = $1', [first.summary.reqId])).toEqual([{ n: 0 }])

    // Applied again: the user now exists, so the create is refused this time.
    const third = await run('/users/imports', body)
    expect(third.summary.reqId).toBe(first.summary.reqId)
    expect(third.details.counters).toEqual({ succeeded: 0, failed: 1, warnings: 0, total: 1 })
    expect(third.details.report![0]).toMatchObject({ status: 'failed', errorCode: 409600 })
    expect(await userByEmail(`twice-${t}@example.com`)).toHaveLength(1)
  })

  it('two identical requests racing: exactly one 200, one 409 and one import', async () => {
    const t = tag()
    const emails = Array.from({ length: 5 }, (_, i) => `race-${i}-${t}@example.com`)
    const body = ['__action__;loginEmail;firstName', ...emails.map((m) => `create;${m};Racer`)].join('\n') + '\n'
    const [r1, r2] = await Promise.all([post('/users/imports', body), post('/users/imports', body)])
    expect([r1!.statusCode, r2!.statusCode].sort()).toEqual([200, 409])
    const loser = r1!.statusCode === 409 ? r1! : r2!
    const reqId = reqIdOf(world.companyA, 'import', body)
    expect(String(loser.json().errorDetails)).toContain(reqId)
    await ia.queue!.drained()
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM imports WHERE req_id = $1', [reqId])).toEqual([{ n: 1 }])
    expect(await tdb.db.query('SELECT count(*)::int AS n FROM import_lines WHERE req_id = $1', [reqId])).toEqual([{ n: 5 }])
    const d = (await getDetails(reqId)).json<{ data: Details }>().data
    expect(d.counters).toEqual({ succeeded: 5, failed: 0, warnings: 0, total: 5 })
    for (const m of emails) expect(await userByEmail(m)).toHaveLength(1)
  })

  it('a Pending import: progress in the report, DELETE is a 409, and the report can be deleted once it has run', async () => {
    const t = tag()
    const body = `__action__;loginEmail;firstName\ncreate;pending-a-${t}@example.com;P\ncreate;pending-b-${t}@example.com;P\n`
    const res = await post('/users/imports', body, { on: stalled })
    expect(res.statusCode).toBe(200)
    const { reqId } = res.json<{ data: Summary }>().data
    const d = (await getDetails(reqId, { on: stalled })).json<{ data: Details }>().data
    expect(d.status).toBe('Pending')
    expect(d.counters).toEqual({ succeeded: 0, failed: 0, warnings: 0, total: 2, processed: 0 })
    expect(d.report!.map((r) => r.lineNumber)).toEqual([2, 3])
    expect(d).not.toHaveProperty('endTime')

    const del = await deleteReport(reqId)
    expect(del.statusCode).toBe(409)
    expect(del.json()).toMatchObject({ errorCode: 409, errorDetailsCode: 409000 })
    // The same file again while it runs: the 409 says its report is still pending, not that it was imported.
    const again = await post('/users/imports', body, { on: stalled })
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ errorCode: 409, errorDetailsCode: 409000 })
    expect(String(again.json().errorDetails)).toMatch(new RegExp(`being imported as reqId ${reqId} and its report is still Pending`))
    expect((await getDetails(reqId)).statusCode).toBe(200)
    expect(await userByEmail(`pending-a-${t}@example.com`)).toEqual([])

    // A worker picks it up (as at the next start), then the report can go.
    await runImport({ db: tdb.db, logger: pino({ level: 'silent' }), xmppDomain: 'localhost', chunkSize: 1 }, reqId)
    const done = (await getDetails(reqId)).json<{ data: Details }>().data
    expect(done.status).toBe('Terminated')
    expect(done.counters).toEqual({ succeeded: 2, failed: 0, warnings: 0, total: 2 })
    const plain = await deleteReport(reqId, { noBody: true })
    expect(plain.statusCode, plain.body).toBe(200)
    expect(plain.json()).toEqual({ data: { reqId, status: 'deleted' } })
  })

  it('an unknown reqId is a 404; another company\'s reqId is a 404 too (details and delete)', async () => {
    for (const reqId of ['f'.repeat(64), 'not-a-req-id']) {
      const get = await getDetails(reqId)
      expect(get.statusCode).toBe(404)
      expect(get.json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found' })
      expect((await deleteReport(reqId)).statusCode).toBe(404)
    }
    const t = tag()
    const { summary } = await run('/users/imports', `__action__;loginEmail;firstName\ncreate;b-only-${t}@example.com;B\n`, { token: tokens.adminB })
    expect(summary.companyId).toBe(world.companyB)
    const foreign = await getDetails(summary.reqId)
    expect(foreign.statusCode).toBe(404)
    expect(foreign.body).not.toContain(world.companyB)
    expect((await getDetails(summary.reqId, { format: 'small' })).statusCode).toBe(404)
    expect((await deleteReport(summary.reqId)).statusCode).toBe(404)
    // Still there for its own company (and for the organization's admin).
    expect((await getDetails(summary.reqId, { token: tokens.adminB })).statusCode).toBe(200)
    expect((await getDetails(summary.reqId, { token: tokens.orgAdmin })).statusCode).toBe(200)
    const listA = (await ia.app.inject({ method: 'GET', url: `${MP}/users/imports`, headers: bearer(tokens.adminA) })).json<{ data: Details[] }>().data
    expect(listA.map((i) => i.reqId)).not.toContain(summary.reqId)
    expect((await ia.app.inject({ method: 'GET', url: `${MP}/users/imports?companyId=${world.companyB}`, headers: bearer(tokens.adminA) })).statusCode).toBe(403)
  })

  it('GET /users/imports lists the company\'s imports newest first, with numeric counters and no report', async () => {
    const w = await createWorld(tdb.db)
    const token = await login(ia.app, w.adminA.email, PASSWORD)
    const t = tag()
    const first = await run('/users/imports', `__action__;loginEmail;firstName\ncreate;l1-${t}@example.com;L\ndelete;l-ghost-${t}@example.com;\n`, { token, query: 'label=first' })
    const second = await run('/users/imports/synchronize', `__action__;loginEmail;firstName\nupsert;l2-${t}@example.com;L\n`, { token, query: 'label=second' })
    const res = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports`, headers: bearer(token) })
    expect(res.statusCode).toBe(200)
    const list = res.json<{ data: Details[] }>().data
    expect(list.map((i) => i.reqId)).toEqual([second.summary.reqId, first.summary.reqId])
    expect(list[0]).toMatchObject({ status: 'Terminated', mode: 'useranddevice', label: 'second', companyId: w.companyA, userId: w.adminA.id, startTime: second.summary.startTime })
    expect(list[1]).toMatchObject({ status: 'Terminated', mode: 'user', label: 'first', companyId: w.companyA })
    expect(list[0]!.counters).toEqual({ succeeded: 1, failed: 0, warnings: 0, total: 1 })
    expect(list[1]!.counters).toEqual({ succeeded: 1, failed: 1, warnings: 0, total: 2 })
    for (const i of list) {
      expect(i).not.toHaveProperty('report')
      expect(i.endTime).toMatch(ISO)
      for (const k of ['succeeded', 'failed', 'warnings', 'total'] as const) expect(typeof i.counters[k]).toBe('number')
    }
    expect(list[0]!.reqId).toMatch(HEX64)
  })

  it('a file-level error (unknown column) is a 400 and stores nothing', async () => {
    const count = async () => (await tdb.db.query<{ i: number, l: number }>('SELECT (SELECT count(*)::int FROM imports) AS i, (SELECT count(*)::int FROM import_lines) AS l'))[0]
    const before = await count()
    const t = tag()
    for (const path of ['/users/imports', '/users/imports/synchronize'] as const) {
      const res = await post(path, `__action__;loginEmail;bogusColumn\ncreate;filelevel-${t}@example.com;1\n`)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ errorCode: 400, errorDetailsCode: 400502 })
      expect(String(res.json().errorDetails)).toContain('bogusColumn')
    }
    await ia.queue!.drained()
    expect(await count()).toEqual(before)
    expect(await userByEmail(`filelevel-${t}@example.com`)).toEqual([])
  })
})
