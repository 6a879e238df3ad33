import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertUser } from '../../../src/db/users-repository.js'
import { loadInventory } from '../../../src/services/pbx-inventory.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const DEVICE_HEADER = '__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number'
const MODES = ['user', 'device', 'useranddevice', 'rainbowvoice'] as const

interface CheckData {
  mode: string
  errors: Array<{ lineNumber: number, code: number, message: string }>
  plan: Array<{ lineNumber: number, action: string, outcome: string, status: string }>
  actions: Record<string, number>
}

/** Header, sample lines, the blank line, then the % block (D5). */
function sections (csv: string) {
  const lines = csv.split('\n')
  const blank = lines.indexOf('')
  return {
    header: lines[0]!,
    samples: lines.slice(1, blank),
    doc: lines.slice(blank + 1).filter((l) => l !== ''),
  }
}

describe.each(dbKinds())('GET /users/template on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens = { adminA: '', orgAdmin: '', plainUser: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'orgAdmin', 'plainUser'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const template = (query: string, token: string | null = tokens.adminA) => app.inject({
    method: 'GET',
    url: `${MP}/users/template${query ? `?${query}` : ''}`,
    // the SDK asks for JSON even for the template (contract §1)
    headers: { ...(token === null ? {} : bearer(token)), accept: 'application/json' },
  })

  it.each(MODES)('mode=%s answers text/csv with an attachment name, whatever Accept says', async (mode) => {
    const res = await template(`mode=${mode}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${mode}-template.csv"`)
    const { header, samples, doc } = sections(res.body)
    expect(header.startsWith('__action__;loginEmail')).toBe(true)
    expect(samples.length).toBeGreaterThanOrEqual(3)
    const width = header.split(';').length
    for (const s of samples) expect(s.split(';').length).toBe(width)
    expect(doc.length).toBeGreaterThan(0)
    expect(doc.every((l) => l.startsWith('%'))).toBe(true)
    // one documentation line per column of the header, in header order (one registry for both)
    const documented = doc.map((l) => /^% (\S+) *;(Mandatory|Optional) *;/.exec(l)?.[1]).filter((n) => n !== undefined)
    expect(documented).toEqual(header.split(';'))
    expect(res.body.endsWith('\n')).toBe(true)
  })

  it('the default mode is useranddevice', async () => {
    const res = await template('')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toBe('attachment; filename="useranddevice-template.csv"')
    expect(res.body).toBe((await template('mode=useranddevice&comment=false')).body)
  })

  it('device header is exactly the documented one; useranddevice = every user column, then the device columns', async () => {
    expect(sections((await template('mode=device')).body).header).toBe(DEVICE_HEADER)
    const user = sections((await template('mode=user')).body).header.split(';')
    const both = sections((await template('mode=useranddevice')).body).header.split(';')
    expect(both).toEqual([...user, 'pbxId', 'pbxShortNumber', 'pbxInternalNumber', 'number'])
    // the columns of the 2018 portal template are all there
    for (const c of ['__action__', 'loginEmail', 'password', 'title', 'firstName', 'lastName', 'nickName', 'businessPhone0', 'mobilePhone0', 'email0', 'jobTitle', 'country', 'language', 'timezone']) {
      expect(user).toContain(c)
    }
    expect(user).not.toContain('pbxShortNumber')
    // rainbowvoice follows the SDK's sample (contract §5)
    expect(sections((await template('mode=rainbowvoice')).body).header)
      .toBe('__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;title;firstName;lastName;language;service0;service1')
  })

  it.each(MODES)('comment=true (mode=%s) answers only the %% block', async (mode) => {
    const res = await template(`mode=${mode}&comment=true`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    const lines = res.body.split('\n').filter((l) => l !== '')
    expect(lines.length).toBeGreaterThan(3)
    for (const l of lines) expect(l.startsWith('%')).toBe(true)
    expect(res.body).not.toContain('@example.com')
    // and it is exactly the block that ends the full template
    expect(sections((await template(`mode=${mode}`)).body).doc).toEqual(lines)
  })

  it('refuses an unknown mode or comment value with a 400', async () => {
    for (const q of ['mode=voice', 'comment=yes']) {
      const res = await template(q)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ errorCode: 400 })
    }
  })

  it('needs an administrator of the company: 401, 403, 403 for another company; the org admin may name B', async () => {
    expect((await template('mode=user', null)).statusCode).toBe(401)
    expect((await template('mode=user', tokens.plainUser)).statusCode).toBe(403)
    expect((await template(`mode=user&companyId=${world.companyB}`)).statusCode).toBe(403)
    expect((await template(`mode=user&companyId=${world.companyC}`, tokens.orgAdmin)).statusCode).toBe(403)
    expect((await template(`mode=user&companyId=${world.companyB}`, tokens.orgAdmin)).statusCode).toBe(200)
  })

  describe('round trip: each template passes its own check with zero errors', () => {
    const ids: Record<string, string> = {}

    const check = async (path: string, body: string): Promise<{ status: number, data: CheckData, raw: string }> => {
      const res = await app.inject({
        method: 'POST',
        url: `${MP}${path}`,
        headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv; charset=utf-8' },
        payload: body,
      })
      return { status: res.statusCode, data: res.json<{ data: CheckData }>().data, raw: res.body }
    }

    const present = async (email: string, present: boolean) => {
      await tdb.db.query('UPDATE users SET deleted_at = now() WHERE login_email = $1 AND deleted_at IS NULL', [email])
      if (!present) return
      const id = newId()
      await insertUser(tdb.db, { id, companyId: world.companyA, loginEmail: email, passwordHash: null, roles: ['user'], adminType: null, jidIm: `${id}-${email}` })
      ids[email] = id
    }
    const hold = async (email: string, shortNumber: string) => {
      await tdb.db.query("UPDATE phone_numbers SET user_id = $1, attached_at = now() WHERE short_number = $2 AND system_id = (SELECT id FROM pbx_systems WHERE pbx_id = 'DEMO-PBX-0001')", [ids[email], shortNumber])
    }

    // The samples name these users and the demo PBX: a company where they exist plans cleanly.
    beforeAll(async () => {
      await loadInventory(tdb.db, {
        companyId: world.companyA,
        pbxId: 'DEMO-PBX-0001',
        numbers: ['1000', '1001', '1002', '1003'].map((s) => ({ shortNumber: s, internalNumber: null, number: null })),
      })
    })
    const reset = async (users: Record<string, boolean>, holds: Array<[string, string]>) => {
      await tdb.db.query("UPDATE phone_numbers SET user_id = NULL, attached_at = NULL WHERE system_id = (SELECT id FROM pbx_systems WHERE pbx_id = 'DEMO-PBX-0001')")
      for (const [email, p] of Object.entries(users)) await present(email, p)
      for (const [email, short] of holds) await hold(email, short)
    }

    it('user template → /users/imports/check', async () => {
      await reset({ 'alice.johns@example.com': false, 'eric.lasalle@example.com': true, 'carol.jenkins@example.com': true }, [])
      const csv = (await template('mode=user&comment=false')).body
      const { status, data, raw } = await check('/users/imports/check', csv)
      expect(status).toBe(200)
      expect(data.mode).toBe('user')
      expect(data.errors).toEqual([])
      expect(data.plan.map((p) => [p.action, p.outcome, p.status])).toEqual([['create', 'create', 'success'], ['update', 'update', 'success'], ['delete', 'delete', 'success']])
      expect(data.actions).toEqual({ add: 1, update: 1, remove: 1 })
      expect(raw).not.toContain('This1Pwd!')
    })

    it('device template → /users/imports/check', async () => {
      await reset({ 'alice.johns@example.com': true, 'eric.lasalle@example.com': true, 'carol.jenkins@example.com': true }, [['carol.jenkins@example.com', '1002']])
      const csv = (await template('mode=device&comment=false')).body
      const { status, data } = await check('/users/imports/check', csv)
      expect(status).toBe(200)
      expect(data.mode).toBe('device')
      expect(data.errors).toEqual([])
      expect(data.plan.map((p) => [p.action, p.status])).toEqual([['attach', 'success'], ['force_attach', 'success'], ['detach', 'success']])
      expect(data.actions).toEqual({ attach: 1, force_attach: 1, detach: 1 })
    })

    it('useranddevice template → /users/imports/synchronize/check', async () => {
      await reset(
        { 'alice.johns@example.com': true, 'eric.lasalle@example.com': true, 'bob.martin@example.com': true, 'carol.jenkins@example.com': true },
        [['bob.martin@example.com', '1003'], ['carol.jenkins@example.com', '1002']])
      const csv = (await template('mode=useranddevice&comment=false')).body
      const { status, data, raw } = await check('/users/imports/synchronize/check', csv)
      expect(status).toBe(200)
      expect(data.mode).toBe('useranddevice')
      expect(data.errors).toEqual([])
      expect(data.plan.map((p) => [p.action, p.status])).toEqual([['upsert', 'success'], ['sync', 'success'], ['detach', 'success'], ['delete', 'success']])
      expect(data.actions).toEqual({ sync: 1, upsert: 1, delete: 1, detach: 1 })
      expect(raw).not.toContain('This1Pwd!')
    })

    it('templates have no validation error even in an empty company (only planning errors, each explained)', async () => {
      await reset({ 'alice.johns@example.com': false, 'eric.lasalle@example.com': false, 'bob.martin@example.com': false, 'carol.jenkins@example.com': false }, [])
      const validation = (c: number) => (c >= 3001 && c <= 3021) || (c >= 400500 && c <= 400599)
      for (const [mode, path] of [['user', '/users/imports/check'], ['device', '/users/imports/check'], ['useranddevice', '/users/imports/synchronize/check']] as const) {
        const { status, data } = await check(path, (await template(`mode=${mode}`)).body)
        expect(status).toBe(200)
        expect(data.errors.filter((e) => validation(e.code))).toEqual([])
        // what is left: users missing from this company (3101), nothing else
        expect([...new Set(data.errors.map((e) => e.code))].every((c) => c === 3101)).toBe(true)
      }
    })

    it('the 2018 portal user template (contract §5, verbatim) still passes the check', async () => {
      await present('eric.lasalle@company.com', true)
      await present('carol.jenkins@company.com', true)
      await present('alice.johns@company.com', false)
      const csv = [
        '__action__;loginEmail;password;title;firstName;lastName;nickName;businessPhone0;mobilePhone0;email0;jobTitle;country;language;timezone',
        'create;alice.johns@company.com;AzertY10*;Mrs;Alice;Johns;alicej;49123456789;4998765432;alice.johns@company.com;Logistic;DEU;de-DE;Europe/Berlin',
        'update;eric.lasalle@company.com;;;;;;;;;Tech Support;;;',
        'delete;carol.jenkins@company.com;;;;;;;;;;;;',
        '',
        '% Use this template to create/modify/remove members of a company',
        '%',
        '% __action__            ;Mandatory      ;<create|update|delete>                                   ;Action to perform',
      ].join('\n')
      const { status, data, raw } = await check('/users/imports/check', csv)
      expect(status).toBe(200)
      expect(data.errors).toEqual([])
      expect(data.actions).toEqual({ add: 1, update: 1, remove: 1 })
      expect(raw).not.toContain('AzertY10*')
    })
  })
})
