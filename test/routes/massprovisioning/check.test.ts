import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { insertUser } from '../../../src/db/users-repository.js'
import { checkCsv } from '../../../src/provisioning/check.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'

const CHECK = '/api/rainbow/massprovisioning/v1.0/users/imports/check'
const CSV = 'text/csv; charset=utf-8'

interface CheckBody {
  data: {
    reqId: string
    mode: string
    actions: Record<string, number>
    columns: number
    delimiter: string
    profiles: unknown
    deletionSafeguard: { deletions: number, companyUsers: number, maxDeletePercent: number, confirmationRequired: boolean }
    errors: Array<{ lineNumber: number, column?: string, code: number, message: string }>
    plan: Array<{ lineNumber: number, action: string, loginEmail: string, outcome: string, status: string, userId?: string, errorCode?: number, set?: string[], changes?: Record<string, { from: unknown, to: unknown }>, device?: Record<string, unknown> }>
  }
}

const reqIdOf = (companyId: string, operation: string, body: string | Buffer) =>
  createHash('sha256').update(`${companyId}\n${operation}\n`).update(body).digest('hex')

async function addUser (db: TestDb['db'], companyId: string, loginEmail: string, firstName: string | null = null): Promise<string> {
  const id = newId()
  await insertUser(db, { id, companyId, loginEmail, passwordHash: null, firstName, roles: ['user'], adminType: null, jidIm: `${id}@localhost` })
  return id
}

describe.each(dbKinds())('POST /users/imports/check on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  let pbxA: string
  const tokens = { adminA: '', orgAdmin: '', plainUser: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'orgAdmin', 'plainUser'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
    pbxA = (await listPbxs(tdb.db, world.companyA))[0]!.pbxId
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const post = (body: string | Buffer, opts: { token?: string | null, contentType?: string, query?: string } = {}) => app.inject({
    method: 'POST',
    url: `${CHECK}${opts.query ? `?${opts.query}` : ''}`,
    headers: {
      ...(opts.token === null ? {} : bearer(opts.token ?? tokens.adminA)),
      'content-type': opts.contentType ?? CSV,
      accept: 'application/json',
    },
    payload: body,
  })

  const simple = () => `__action__;loginEmail;firstName\ncreate;simple-${newId()}@example.com;Simple\n`

  it.each([CSV, 'text/csv', 'text/plain', 'application/octet-stream', 'text/csv; charset=ISO-8859-1'])('accepts Content-Type %s and answers the check summary', async (contentType) => {
    const body = simple()
    const res = await post(body, { contentType })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const { data } = res.json<CheckBody>()
    expect(Object.keys(data).sort()).toEqual(['actions', 'columns', 'deletionSafeguard', 'delimiter', 'errors', 'mode', 'plan', 'profiles', 'reqId'])
    expect(data.reqId).toMatch(/^[0-9a-f]{64}$/)
    expect(data.reqId).toBe(reqIdOf(world.companyA, 'check', body))
    expect(data).toMatchObject({ mode: 'user', actions: { add: 1, update: 0, remove: 0 }, columns: 3, delimiter: ';', errors: [] })
    expect(data.deletionSafeguard).toMatchObject({ deletions: 0, maxDeletePercent: 10, confirmationRequired: false })
    expect(data.plan).toHaveLength(1)
    expect(data.plan[0]).toEqual({ lineNumber: 2, action: 'create', loginEmail: expect.stringMatching(/^simple-/), outcome: 'create', status: 'success', set: ['firstName'] })
  })

  it('the reqId hashes the bytes as received: a BOM changes it, options do not', async () => {
    const body = simple()
    const plain = (await post(body)).json<CheckBody>().data.reqId
    expect((await post(body, { query: 'nostrict=true&comment=%25' })).json<CheckBody>().data.reqId).toBe(plain)
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)])
    const res = await post(withBom)
    expect(res.statusCode).toBe(200)
    expect(res.json<CheckBody>().data.reqId).toBe(reqIdOf(world.companyA, 'check', withBom))
    expect(res.json<CheckBody>().data.reqId).not.toBe(plain)
  })

  it.each([
    ['application/json', '{"csv":"__action__;loginEmail"}'],
    ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n__action__;loginEmail\r\n--xyz--\r\n'],
    ['application/x-www-form-urlencoded', 'a=b'],
  ])('refuses Content-Type %s with 415 in the Rainbow envelope', async (contentType, body) => {
    const res = await post(body, { contentType })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ errorCode: 415, errorMsg: 'Unsupported Media Type', errorDetailsCode: 415000 })
    expect(String(res.json().errorDetails)).toContain(contentType.split(';')[0])
  })

  it('401 without a token, 403 for a user without admin rights', async () => {
    const anonymous = await post(simple(), { token: null })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json()).toMatchObject({ errorCode: 401 })
    const plain = await post(simple(), { token: tokens.plainUser })
    expect(plain.statusCode).toBe(403)
    expect(plain.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403000 })
  })

  it('a company_admin cannot check for another company (403); the organization_admin can, against that company\'s users', async () => {
    const body = `__action__;loginEmail;jobTitle\nupdate;${world.userB.email};Boss\n`
    const refused = await post(body, { query: `companyId=${world.companyB}` })
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403001 })

    const ok = await post(body, { token: tokens.orgAdmin, query: `companyId=${world.companyB}` })
    expect(ok.statusCode).toBe(200)
    const { data } = ok.json<CheckBody>()
    expect(data.reqId).toBe(reqIdOf(world.companyB, 'check', body))
    expect(data.errors).toEqual([])
    expect(data.plan[0]).toMatchObject({ outcome: 'update', userId: world.userB.id, changes: { jobTitle: { from: null, to: 'Boss' } } })

    // the same file for company A: user B is not there
    const own = (await post(body, { token: tokens.orgAdmin })).json<CheckBody>().data
    expect(own.errors).toEqual([{ lineNumber: 2, code: 3101, message: expect.any(String) }])
    expect(own.actions).toEqual({ add: 0, update: 0, remove: 0 })
  })

  it.each([
    ['an unknown column', '__action__;loginEmail;favouriteColour\ncreate;a@example.com;blue\n', 400502, 1, 'favouriteColour'],
    ['a duplicated column', '__action__;loginEmail;firstName;firstName\ncreate;a@example.com;A;B\n', 400502, 1, 'firstName'],
    ['a missing mandatory column', '__action__;firstName\ncreate;A\n', 400502, 1, 'loginEmail'],
    ['a header and no data line', '__action__;loginEmail;firstName\n% only a comment\n\n', 400508, 1, 'no data'],
    ['an invalid __action__', '__action__;loginEmail\ncreate;a@example.com\n% comment\nfrobnicate;b@example.com\n', 400506, 4, 'frobnicate'],
    ['a device action in a user file', '__action__;loginEmail\nattach;a@example.com\n', 400506, 2, 'attach'],
    ['an unterminated quote', '__action__;loginEmail;firstName\ncreate;a@example.com;A\ncreate;b@example.com;"Bo\n', 400501, 3, ''],
  ])('a file with %s is a 400 with its errorDetailsCode and line', async (_what, body, code, line, mention) => {
    const res = await post(body)
    expect(res.statusCode).toBe(400)
    const err = res.json()
    expect(err).toMatchObject({ errorCode: 400, errorMsg: 'Bad Request', errorDetailsCode: code })
    expect(String(err.errorDetails)).toMatch(new RegExp(`^Line ${line}: `))
    expect(String(err.errorDetails)).toContain(mention)
  })

  it('a file-level error after thousands of planned lines is still a 400 with its line, and nothing of the plan is sent', async () => {
    const tag = newId().slice(-6)
    const lines = ['__action__;loginEmail;firstName']
    for (let i = 0; i < 5000; i++) lines.push(`create;late-${i}-${tag}@example.com;First${i}`)
    lines.push(`create;late-x-${tag}@example.com;"Never closed`)
    const res = await post(`${lines.join('\n')}\n`)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ errorCode: 400, errorMsg: 'Bad Request', errorDetailsCode: 400501, errorDetails: expect.stringMatching(/^Line 5002: .*unterminated quote/) })
    expect(res.body).not.toContain('late-0-')
  })

  it('a large answer arrives whole, with its length announced', async () => {
    const tag = newId().slice(-6)
    const lines = ['__action__;loginEmail;firstName;jobTitle']
    for (let i = 0; i < 5000; i++) lines.push(i % 1000 === 1 ? `create;bad-${i};X;Y` : `create;big-${i}-${tag}@example.com;First${i};Dev`)
    const res = await post(`${lines.join('\n')}\n`)
    expect(res.statusCode).toBe(200)
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length)
    const { data } = res.json<CheckBody>()
    expect(data.actions).toEqual({ add: 4995, update: 0, remove: 0 })
    expect(data.errors.map((e) => [e.lineNumber, e.code, e.column])).toEqual([2, 1002, 2002, 3002, 4002].map((l) => [l + 1, 3010, 'loginEmail']))
    expect(data.plan.map((p) => p.lineNumber)).toEqual(lines.slice(1).map((_, i) => i + 2))
    expect(data.plan[4999]).toEqual({ lineNumber: 5001, action: 'create', loginEmail: `big-4999-${tag}@example.com`, outcome: 'create', status: 'success', set: ['firstName', 'jobTitle'] })
  })

  // checkCsv reads which users exist from every live e-mail read once (few users on the server) or
  // by a lookup per line (many): both must plan the same.
  it('plans the same whether the live e-mails are held or every line is looked up', async () => {
    const body = [
      '__action__;loginEmail;firstName;pbxId;pbxShortNumber',
      `upsert;fresh-${newId()}@example.com;New;${pbxA};2000`,
      `sync;${world.plainUser.email};Plain;;`,
      `upsert;${world.userB.email};Bee;;`,
      `delete;ghost-${newId()}@example.com;;;`,
      `detach;${world.adminA.email};;;`,
    ].join('\n')
    const run = async (liveEmailsHeld: number) => (await checkCsv(tdb.db, {
      companyId: world.companyA, endpoint: 'synchronize', body: Buffer.from(body), nostrict: false, caller: { id: world.adminA.id, rank: 1 }, liveEmailsHeld, maxDeletePercent: 10,
    })).toObject().data
    const held = await run(1_000_000)
    const probed = await run(0)
    expect(probed).toEqual(held)
    expect(held.plan!.map((e) => e.errorCode ?? e.outcome)).toEqual(['create', 'update', 409600, 3101, 1010])
    expect(held.plan![1]).toMatchObject({ userId: world.plainUser.id, changes: { firstName: { to: 'Plain' } } })
  })

  // Over 512 KB the app parses and validates the lines on its worker threads.
  it('answers the same for a large body whether its lines are checked on worker threads or on the event loop', async () => {
    const tag = newId().slice(-6)
    const lines = ['__action__;loginEmail;firstName;businessPhone0;country']
    for (let i = 0; i < 12_000; i++) lines.push(`create;wide-${i}-${tag}@example.com;First${i};+33 1 23 45 67 ${String(i % 90 + 10)};FRA`)
    lines[3000] = `update;${world.plainUser.email};Plain;;`
    lines[6000] = `create;WIDE-1-${tag}@example.com;Again;;FRA`
    lines[9000] = `create;wide-x-${tag}@example.com;X;4.91234E+10;FRA`
    const body = `${lines.join('\n')}\n`
    expect(body.length).toBeGreaterThan(512 * 1024)
    const res = await post(body)
    expect(res.statusCode).toBe(200)
    const here = (await checkCsv(tdb.db, { companyId: world.companyA, endpoint: 'import', body: Buffer.from(body), nostrict: false, caller: { id: world.adminA.id, rank: 1 }, maxDeletePercent: 10 })).toObject()
    const threaded = res.json<CheckBody>()
    expect(threaded.data.plan.map((e, i) => ({ ...e, userId: here.data.plan![i]?.userId }))).toEqual(here.data.plan)
    expect({ ...threaded.data, plan: [] }).toEqual({ ...here.data, plan: [] })
    expect(threaded.data.errors.map((e) => [e.lineNumber, e.code])).toEqual([[6001, 3004], [9001, 3013]])
    expect(threaded.data.plan[2999]).toMatchObject({ outcome: 'update', userId: world.plainUser.id })
  })

  it('an empty body is a 400 400508', async () => {
    const res = await post('')
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ errorDetailsCode: 400508 })
  })

  it('writes nothing: users, numbers, imports, reports and outbox are the same before and after', async () => {
    const holderEmail = `holder-${newId()}@example.com`
    const holder = await addUser(tdb.db, world.companyA, holderEmail)
    await tdb.db.query('UPDATE phone_numbers SET user_id = $1, attached_at = now() WHERE short_number = $2 AND company_id = $3', [holder, '2001', world.companyA])
    const state = async () => ({
      users: await tdb.db.query('SELECT id, login_email, password_hash, first_name, job_title, tags, deleted_at, updated_at FROM users ORDER BY id'),
      numbers: await tdb.db.query('SELECT id, user_id, internal_number, number, attached_at, updated_at FROM phone_numbers ORDER BY id'),
      counts: await tdb.db.query(`SELECT (SELECT count(*)::int FROM imports) AS imports, (SELECT count(*)::int FROM import_lines) AS lines,
        (SELECT count(*)::int FROM command_reports) AS reports, (SELECT count(*)::int FROM outbox) AS outbox`),
    })
    const before = await state()
    const users = [
      '__action__;loginEmail;password;firstName;jobTitle',
      `create;fresh-${newId()}@example.com;Str0ng!Pass;Fresh;Dev`,
      `update;${world.plainUser.email};Str0ng!Pass;Plainer;Boss`,
      `delete;${holderEmail};;;`,
    ].join('\n')
    const devices = [
      '__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number',
      `attach;${world.plainUser.email};${pbxA};2000;+33900002000;+33123002099`,
      `detach;${holderEmail};;;;`,
      `detach;${world.adminA.email};;;;`,
    ].join('\n')
    expect((await post(users)).json<CheckBody>().data.plan.map((e) => e.outcome)).toEqual(['create', 'update', 'delete'])
    expect((await post(devices)).json<CheckBody>().data.plan.map((e) => e.errorCode ?? e.outcome)).toEqual(['attach', 'detach', 1010])
    expect(await state()).toEqual(before)
    await tdb.db.query('UPDATE phone_numbers SET user_id = NULL, attached_at = NULL WHERE user_id = $1', [holder])
  })

  it('a device file (device columns in the header) is checked in device mode against the PBX inventory', async () => {
    const [e1, e2] = [`dev1-${newId()}@example.com`, `dev2-${newId()}@example.com`]
    const u1 = await addUser(tdb.db, world.companyA, e1)
    await addUser(tdb.db, world.companyA, e2)
    const body = [
      '__action__;loginEmail;pbxShortNumber',
      `attach;${e1};2000`,
      `attach;${e2};2000`,
      `force_attach;${e2};2002`,
      `attach;${world.plainUser.email};9999`,
      `detach;${world.adminA.email};`,
    ].join('\n')
    const res = await post(body)
    expect(res.statusCode).toBe(200)
    const { data } = res.json<CheckBody>()
    expect(data.mode).toBe('device')
    expect(data.columns).toBe(3)
    // 1008: line 2 gave 2000 to e1; 3004: e2 twice in the file; 1003: no 9999; 1010: adminA holds nothing
    expect(data.errors.map((e) => [e.lineNumber, e.code])).toEqual([[3, 1008], [4, 3004], [5, 1003], [6, 1010]])
    expect(data.plan.map((e) => [e.lineNumber, e.outcome, e.status])).toEqual([
      [2, 'attach', 'success'], [3, 'error', 'failed'], [4, 'error', 'failed'], [5, 'error', 'failed'], [6, 'error', 'failed'],
    ])
    expect(data.plan[0]).toMatchObject({ userId: u1, device: { outcome: 'attach', pbxId: pbxA, shortNumber: '2000' } })
    expect(data.actions).toEqual({ attach: 1, force_attach: 0, detach: 0 })
  })

  it('a device file: a number another user holds is 1008 for attach and taken by force_attach', async () => {
    const holder = await addUser(tdb.db, world.companyA, `h-${newId()}@example.com`)
    await tdb.db.query('UPDATE phone_numbers SET user_id = $1, attached_at = now() WHERE short_number = $2 AND company_id = $3', [holder, '2002', world.companyA])
    try {
      const body = `__action__;loginEmail;pbxId;pbxShortNumber\nattach;${world.plainUser.email};${pbxA};2002\n`
      expect((await post(body)).json<CheckBody>().data.errors).toEqual([{ lineNumber: 2, code: 1008, message: expect.any(String) }])
      const forced = (await post(body.replace('\nattach;', '\nforce_attach;'))).json<CheckBody>().data
      expect(forced.errors).toEqual([])
      expect(forced.actions).toEqual({ attach: 0, force_attach: 1, detach: 0 })
      expect(forced.plan[0]).toMatchObject({ outcome: 'force_attach', device: { previousHolder: holder } })
      const unknownPbx = (await post(body.replace(pbxA, 'NO-SUCH-PBX'))).json<CheckBody>().data
      expect(unknownPbx.errors.map((e) => e.code)).toEqual([1001])
      // a PBX of company B is not company A's
      const pbxB = (await listPbxs(tdb.db, world.companyB))[0]!.pbxId
      expect((await post(body.replace(pbxA, pbxB))).json<CheckBody>().data.errors.map((e) => e.code)).toEqual([1001])
    } finally {
      await tdb.db.query('UPDATE phone_numbers SET user_id = NULL, attached_at = NULL WHERE user_id = $1', [holder])
    }
  })

  it('nostrict=true turns create of an existing user into an update; delete of a missing one into a warning', async () => {
    const body = `__action__;loginEmail;jobTitle\ncreate;${world.plainUser.email};Chief\ndelete;ghost-${newId()}@example.com;\n`
    const strict = (await post(body)).json<CheckBody>().data
    expect(strict.errors.map((e) => [e.lineNumber, e.code])).toEqual([[2, 409600], [3, 3101]])
    expect(strict.actions).toEqual({ add: 0, update: 0, remove: 0 })

    const lenient = (await post(body, { query: 'nostrict=true' })).json<CheckBody>().data
    expect(lenient.errors).toEqual([])
    expect(lenient.plan[0]).toMatchObject({ action: 'create', outcome: 'update', status: 'success', userId: world.plainUser.id, changes: { jobTitle: { from: null, to: 'Chief' } } })
    expect(lenient.plan[1]).toMatchObject({ action: 'delete', status: 'warning', errorCode: 3101 })
    // Counted as what the plan does: the create of an existing user is an update.
    expect(lenient.actions).toEqual({ add: 0, update: 1, remove: 1 })
    expect(lenient.reqId).toBe(strict.reqId)

    // a user of another company stays a conflict
    const foreign = (await post(`__action__;loginEmail\ncreate;${world.userB.email}\n`, { query: 'nostrict=true' })).json<CheckBody>().data
    expect(foreign.errors.map((e) => e.code)).toEqual([409600])
  })

  it('plan=false answers without the per-line plan: same counters and errors, a smaller body', async () => {
    const lines = ['__action__;loginEmail;firstName;jobTitle', ...Array.from({ length: 300 }, (_, i) => `create;np${i}-${newId()}@example.com;N${i};Engineer`), 'create;not-an-email;X;Y']
    const body = lines.join('\n') + '\n'
    const full = await post(body)
    const lean = await post(body, { query: 'plan=false' })
    expect(lean.statusCode).toBe(200)
    const a = full.json<CheckBody>().data
    const b = lean.json<CheckBody>().data
    expect(b).not.toHaveProperty('plan')
    expect(a.plan).toHaveLength(301)
    expect(b).toEqual({ ...a, plan: undefined })
    expect(Number(lean.headers['content-length'])).toBe(lean.rawPayload.length)
    expect(lean.rawPayload.length).toBeLessThan(full.rawPayload.length / 3)
    expect((await post(body, { query: 'plan=true' })).body).toBe(full.body)
    expect((await post(body, { query: 'plan=no' })).statusCode).toBe(400)
  })

  it('delimiter: forced with delimiter=%2C, detected when absent, echoed in the answer', async () => {
    // an update shows the values read: the quoted delimiter stays in the value
    const comma = `__action__,loginEmail,firstName\nupdate,${world.plainUser.email},"Smith; John"\n`
    const forced = await post(comma, { query: 'delimiter=%2C' })
    expect(forced.statusCode).toBe(200)
    expect(forced.json<CheckBody>().data).toMatchObject({ delimiter: ',', columns: 3, errors: [] })
    expect(forced.json<CheckBody>().data.plan[0]!.changes!.firstName!.to).toBe('Smith; John')

    const detected = await post(comma)
    expect(detected.json<CheckBody>().data).toMatchObject({ delimiter: ',', columns: 3, errors: [] })

    const tab = (await post(comma.replaceAll(',', '\t').replace('"Smith; John"', 'John'))).json<CheckBody>().data
    expect(tab).toMatchObject({ delimiter: '\t', columns: 3, errors: [] })

    // a forced delimiter wins over detection: read with ';' this header is one unknown column
    const wrong = await post(comma, { query: 'delimiter=%3B' })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json()).toMatchObject({ errorDetailsCode: 400502 })
  })

  it('the comment query: % by default, another character when asked, a quoted one is data', async () => {
    const body = `__action__;loginEmail;jobTitle\nupdate;${world.plainUser.email};"100% remote" % trailing note\n`
    const data = (await post(body)).json<CheckBody>().data
    expect(data.errors).toEqual([])
    expect(data.plan[0]!.changes!.jobTitle).toEqual({ from: null, to: '100% remote' })
    const hash = (await post(`# a hash comment\n${body.replace(' % trailing note', '')}`, { query: 'comment=%23' })).json<CheckBody>().data
    expect(hash.errors).toEqual([])
    expect(hash.plan[0]).toMatchObject({ lineNumber: 3 })
  })

  it('never echoes a password, whatever the line\'s other errors', async () => {
    const secrets = ['Xy9!secretA', 'Xy9!secretB', 'Xy9!secretC', 'xy9secretd']
    const body = [
      '__action__;loginEmail;password;country',
      `create;pw1-${newId()}@example.com;${secrets[0]};FRA`,
      `create;pw2-${newId()}@example.com;${secrets[1]};NOWHERE`,
      `create;pw3-${newId()}@example.com;${secrets[2]}`,
      `create;pw4-${newId()}@example.com;${secrets[3]};FRA`,
      `update;${world.plainUser.email};${secrets[0]};`,
    ].join('\n')
    const res = await post(body)
    expect(res.statusCode).toBe(200)
    const { data } = res.json<CheckBody>()
    expect(data.errors.map((e) => [e.lineNumber, e.code])).toEqual([[3, 3014], [4, 3001], [5, 3011]])
    expect(data.plan[0]!.set).toEqual(['country', 'password'])
    // Changed, never `from: null` (which said the user had no password).
    expect(data.plan[4]!.changes!.password).toEqual({ from: 'hidden', to: 'changed' })
    for (const s of secrets) expect(res.body).not.toContain(s)
    expect(res.body).not.toContain('secret')
  })

  it('a realistic 1,000-line user file: every error with its line and code, one plan entry per line, exact counters', async () => {
    const tag = newId().slice(-6)
    const existing = (i: number) => `exist-${i}-${tag}@bulk.example`
    const keep = (i: number) => `keep-${i}-${tag}@bulk.example`
    const fresh = (k: number) => `new-${k}-${tag}@bulk.example`
    for (let i = 0; i < 300; i++) await addUser(tdb.db, world.companyA, existing(i), `Existing${i}`)
    for (let i = 0; i < 2; i++) await addUser(tdb.db, world.companyA, keep(i))
    const ids = new Map((await tdb.db.query<{ id: string, login_email: string }>('SELECT id, login_email FROM users WHERE login_email LIKE $1', [`%-${tag}@bulk.example`])).map((r) => [r.login_email, r.id]))

    const HEADER = '__action__;loginEmail;password;title;firstName;lastName;businessPhone0;mobilePhone0;email0;jobTitle;department;country;language;timezone;tags0'
    const line = (c: Partial<Record<'action' | 'email' | 'pw' | 'title' | 'first' | 'last' | 'bp' | 'mp' | 'e0' | 'job' | 'dept' | 'country' | 'lang' | 'tz' | 'tag', string>>) =>
      [c.action, c.email, c.pw, c.title, c.first, c.last, c.bp, c.mp, c.e0, c.job, c.dept, c.country, c.lang, c.tz, c.tag].map((v) => v ?? '').join(';')
    const good = (k: number) => line({
      action: 'create',
      email: fresh(k),
      pw: k % 4 === 0 ? '' : `Pw${k}!Secret`,
      title: 'Mr',
      first: `First${k}`,
      last: `Last${k}`,
      bp: k % 3 === 0 ? '' : '+33123456789',
      mp: k % 3 === 0 ? '' : '06 01 02 03 04',
      e0: `perso${k}@home.example`,
      job: 'Engineer',
      dept: 'R&D',
      country: 'FRA',
      lang: 'fr-FR',
      tz: 'Europe/Paris',
      tag: `team${k % 5}`,
    })

    // 20 bad lines of different kinds, spread through the file: data index → [line, expected code, column]
    const bad = new Map<number, [string, number, string | undefined]>([
      [3, [line({ action: 'create', email: 'not-an-email', first: 'X' }), 3010, 'loginEmail']],
      [57, [line({ action: 'create', email: fresh(57), pw: 'weakweakweak' }), 3011, 'password']],
      [111, [line({ action: 'create', email: fresh(111), country: 'XYZ' }), 3014, 'country']],
      [160, [line({ action: 'create', email: fresh(0).toUpperCase(), first: 'Dup' }), 3004, 'loginEmail']],
      [222, [line({ action: 'update', email: `ghost-1-${tag}@bulk.example`, job: 'Boss' }), 3101, undefined]],
      [289, [line({ action: 'create', email: keep(0), first: 'Again' }), 409600, undefined]],
      [333, [line({ action: 'delete', email: `ghost-2-${tag}@bulk.example` }), 3101, undefined]],
      [378, [line({ action: 'create', email: fresh(378), lang: 'english' }), 3015, 'language']],
      [404, [line({ action: 'create', email: fresh(404), tz: 'Mars/Olympus_Mons' }), 3016, 'timezone']],
      [455, [line({ action: 'create', email: fresh(455), bp: '4.91234E+10', country: 'DEU' }), 3013, 'businessPhone0']],
      [512, [line({ action: 'create', email: fresh(512), mp: 'call me maybe' }), 3012, 'mobilePhone0']],
      [560, [line({ action: 'create', email: fresh(560), tag: 'x'.repeat(65) }), 3020, 'tags0']],
      [618, [line({ action: 'create', email: world.userB.email }), 409600, undefined]],
      [666, [line({ action: 'update', email: world.adminB.email, job: 'Boss' }), 3101, undefined]],
      [701, [line({ action: 'create', email: fresh(701) }).replace(/;$/, ''), 3001, undefined]],
      [750, [line({ action: 'create', email: fresh(750), first: 'Nul\u0000Name' }), 3003, 'firstName']],
      [808, [line({ action: 'create', email: fresh(808), e0: 'perso@' }), 3010, 'email0']],
      [855, [line({ action: 'create', email: fresh(855), pw: 'Sh0rt!x' }), 3011, 'password']],
      [912, [line({ action: 'create', email: fresh(912), country: 'FR' }), 3014, 'country']],
      [999, [line({ action: 'delete', email: existing(0) }), 3004, 'loginEmail']],
    ])

    type Expect = { lineNumber: number, action: string, outcome: string, code?: number, column?: string | undefined, email: string }
    const lines = [HEADER]
    const expected: Expect[] = []
    let nextUpdate = 0
    let nextDelete = 200
    for (let k = 0; k < 1000; k++) {
      if (k > 0 && k % 250 === 0) lines.push(`% --- part ${k / 250 + 1} ---`, '')
      const b = bad.get(k)
      if (b) {
        lines.push(b[0])
        expected.push({ lineNumber: lines.length, action: b[0].split(';')[0]!, outcome: 'error', code: b[1], column: b[2], email: '' })
        continue
      }
      if (k % 10 === 7 || k % 10 === 8) {
        const email = existing(nextUpdate++)
        lines.push(line({ action: 'update', email, job: `Engineer ${k}`, tag: 'updated' }))
        expected.push({ lineNumber: lines.length, action: 'update', outcome: 'update', email })
      } else if (k % 10 === 9) {
        const email = existing(nextDelete++)
        lines.push(line({ action: 'delete', email }))
        expected.push({ lineNumber: lines.length, action: 'delete', outcome: 'delete', email })
      } else {
        lines.push(good(k))
        expected.push({ lineNumber: lines.length, action: 'create', outcome: 'create', email: fresh(k) })
      }
    }
    const body = `${lines.join('\r\n')}\r\n`
    expect(expected).toHaveLength(1000)

    const res = await post(body)
    expect(res.statusCode).toBe(200)
    const { data } = res.json<CheckBody>()
    expect(data).toMatchObject({ mode: 'user', columns: 15, delimiter: ';', reqId: reqIdOf(world.companyA, 'check', body) })

    // every error, in line order, with its line, code and column
    const wantErrors = expected.filter((e) => e.code !== undefined)
    expect(wantErrors).toHaveLength(20)
    expect(data.errors.map((e) => [e.lineNumber, e.code, e.column])).toEqual(wantErrors.map((e) => [e.lineNumber, e.code, e.column]))
    for (const e of data.errors) expect(e.message.length).toBeGreaterThan(0)

    // one plan entry per data line, in file order, doing what the line asks
    expect(data.plan).toHaveLength(1000)
    expect(data.plan.map((p) => [p.lineNumber, p.action, p.outcome, p.errorCode])).toEqual(expected.map((e) => [e.lineNumber, e.action, e.outcome, e.code]))
    for (const [i, e] of expected.entries()) {
      const p = data.plan[i]!
      if (e.outcome === 'error') {
        expect(p.status).toBe('failed')
        continue
      }
      expect(p.status).toBe('success')
      expect(p.loginEmail).toBe(e.email)
      if (e.outcome !== 'create') expect(p.userId).toBe(ids.get(e.email))
    }
    const sample = data.plan.find((p) => p.action === 'update')!
    expect(sample.changes).toEqual({ jobTitle: { from: null, to: expect.stringMatching(/^Engineer \d+$/) }, tags: { from: [], to: ['updated'] } })
    const created = data.plan.find((p) => p.loginEmail === fresh(1))!
    expect(created).toEqual({
      lineNumber: 3,
      action: 'create',
      loginEmail: fresh(1),
      outcome: 'create',
      status: 'success',
      set: ['title', 'firstName', 'lastName', 'jobTitle', 'department', 'country', 'language', 'timezone', 'tags', 'emails', 'phoneNumbers', 'password'],
    })
    // a create without a password or phones does not name them
    expect(data.plan.find((p) => p.loginEmail === fresh(0))!.set).toEqual(['title', 'firstName', 'lastName', 'jobTitle', 'department', 'country', 'language', 'timezone', 'tags', 'emails'])

    // counters = lines that would not fail, per action
    const count = (action: string) => expected.filter((e) => e.action === action && e.outcome !== 'error').length
    expect(data.actions).toEqual({ add: count('create'), update: count('update'), remove: count('delete') })
    expect(Object.values(data.actions).reduce((a, b) => a + b, 0)).toBe(980)

    // no password, strong or weak, anywhere in the answer
    expect(res.body).not.toContain('!Secret')
    expect(res.body).not.toContain('weakweakweak')
    expect(res.body).not.toContain('Sh0rt!x')
  })
})
