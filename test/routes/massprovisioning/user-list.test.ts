import { text } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { streamUserList } from '../../../src/services/user-list.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { buildImportApp, MP, type ImportApp } from '../../jobs/helpers/import-app.js'

// GET /users/synchronize (D19): the company's users in the useranddevice columns, csv, json or all.
describe.each(dbKinds())('GET /users/synchronize on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  let world: World
  let pbxA = ''
  const tokens = { adminA: '', orgAdmin: '' }
  const t = newId().slice(-8)
  const email = (k: string) => `list-${k}-${t}@example.com`

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    ia = await buildImportApp(tdb.db)
    for (const who of ['adminA', 'orgAdmin'] as const) tokens[who] = await login(ia.app, world[who].email, PASSWORD)
    pbxA = (await listPbxs(tdb.db, world.companyA))[0]!.pbxId
    // Users as a connector would have made them: every kind of column, values that need quotes, a PBX number.
    const header = ['__action__', 'loginEmail', 'password', 'firstName', 'lastName', 'jobTitle', 'tags0', 'tags1', 'tags2', 'businessPhone0', 'businessPhone1',
      'mobilePhone0', 'email0', 'country', 'language', 'timezone', 'isInitialized', 'accountType', 'ldap_id', 'pbxId', 'pbxShortNumber']
    const line = (cells: Record<string, string>) => header.map((h) => cells[h] ?? '').join(';')
    const body = [
      header.join(';'),
      line({
        __action__: 'upsert',
        loginEmail: email('full'),
        password: 'This1Pwd!x',
        firstName: 'Ann',
        lastName: '"O\'Neil; Jr"',
        jobTitle: '"50% off"',
        tags0: 'red',
        tags1: 'green',
        tags2: 'blue',
        businessPhone0: '+33123456789',
        businessPhone1: '+33123456780',
        mobilePhone0: '+33612345678',
        email0: 'home@example.org',
        country: 'FRA',
        language: 'fr-FR',
        timezone: 'Europe/Paris',
        isInitialized: 'true',
        accountType: 'advanced',
        ldap_id: 'guid-1',
        pbxId: pbxA,
        pbxShortNumber: '2000',
      }),
      line({ __action__: 'upsert', loginEmail: email('plain'), firstName: 'Bob', ldap_id: 'guid-2' }),
      line({ __action__: 'upsert', loginEmail: email('noldap'), firstName: '"Cy ""the"" third"' }),
    ].join('\n') + '\n'
    const res = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/synchronize`, headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv' }, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    await ia.queue!.drained()
  })
  afterAll(async () => {
    await ia?.app.close()
    await tdb?.close()
  })

  const list = async (query: string, who: keyof typeof tokens = 'adminA') => {
    const res = await ia.app.inject({ method: 'GET', url: `${MP}/users/synchronize?${query}`, headers: bearer(tokens[who]) })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    return res.json<{ data: unknown }>().data
  }

  it('format=csv: the header first, one sync line per user, no password; posted back to synchronize/check it plans no change', async () => {
    const lines = await list('format=csv') as string[]
    const header = lines[0]!.split(';')
    expect(header.slice(0, 2)).toEqual(['__action__', 'loginEmail'])
    expect(header).not.toContain('password')
    expect(header).toEqual(expect.arrayContaining(['tags0', 'tags1', 'tags2', 'businessPhone0', 'businessPhone1', 'mobilePhone0', 'email0', 'ldap_id', 'pbxId', 'pbxShortNumber', 'pbxInternalNumber', 'number']))
    const full = lines.find((l) => l.includes(email('full')))!
    expect(full.startsWith(`sync;${email('full')};`)).toBe(true)
    expect(full).toContain('"O\'Neil; Jr"')
    expect(full).toContain('"50% off"')
    expect(full).not.toContain('This1Pwd!x')
    // The company's users (the world's admins and plain user too), never the organization_admin above a company_admin.
    expect(lines).toHaveLength(1 + 3 + 2)
    expect(lines.join('\n')).not.toContain(world.orgAdmin.email)

    const check = await ia.app.inject({
      method: 'POST', url: `${MP}/users/imports/synchronize/check`, headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv' }, payload: lines.join('\n') + '\n',
    })
    expect(check.statusCode, check.body).toBe(200)
    const data = check.json<{ data: { errors: unknown[], plan: Array<{ loginEmail: string, outcome: string, changes?: unknown }> } }>().data
    expect(data.errors).toEqual([])
    expect(data.plan).toHaveLength(5)
    for (const entry of data.plan) expect([entry.loginEmail, entry.outcome, entry.changes]).toEqual([entry.loginEmail, 'unchanged', {}])
  })

  it('format=json: per user, the CSV\'s cells keyed by its column names; format=all: both', async () => {
    const json = await list('format=json') as Record<string, Record<string, string>>
    expect(Object.keys(json).sort()).toEqual([email('full'), email('noldap'), email('plain'), world.adminA.email, world.plainUser.email].sort())
    expect(json[email('full')]).toMatchObject({
      loginEmail: email('full'),
      firstName: 'Ann',
      lastName: 'O\'Neil; Jr',
      jobTitle: '50% off',
      tags0: 'red',
      tags2: 'blue',
      businessPhone1: '+33123456780',
      mobilePhone0: '+33612345678',
      email0: 'home@example.org',
      country: 'FRA',
      isInitialized: 'true',
      accountType: 'advanced',
      ldap_id: 'guid-1',
      pbxId: pbxA,
      pbxShortNumber: '2000',
      number: '+33123002000',
    })
    expect(json[email('plain')]).toMatchObject({ firstName: 'Bob', lastName: '', tags0: '', ldap_id: 'guid-2', pbxId: '' })
    expect(json[email('full')]).not.toHaveProperty('__action__')
    expect(json[email('full')]).not.toHaveProperty('password')
    expect(await list('')).toEqual(json)
    expect(await list('format=all')).toEqual({ jsonContent: json, csvContent: await list('format=csv') })
  })

  it('ldap_id=true lists only the users that have one; the organization_admin sees itself too', async () => {
    const ldap = await list('format=json&ldap_id=true') as Record<string, unknown>
    expect(Object.keys(ldap).sort()).toEqual([email('full'), email('plain')].sort())
    expect(Object.keys(await list('format=json&ldapConfigId=cfg-1') as object).sort()).toEqual([email('full'), email('plain')].sort())
    expect(Object.keys(await list(`format=json&companyId=${world.companyA}`, 'orgAdmin') as object)).toContain(world.orgAdmin.email)
  })

  it('bad parameters are 400, another company 403, in the Rainbow envelope', async () => {
    const bad = await ia.app.inject({ method: 'GET', url: `${MP}/users/synchronize?format=xml`, headers: bearer(tokens.adminA) })
    expect(bad.json()).toMatchObject({ errorCode: 400, errorMsg: 'Bad Request' })
    const other = await ia.app.inject({ method: 'GET', url: `${MP}/users/synchronize?companyId=${world.companyB}`, headers: bearer(tokens.adminA) })
    expect(other.json()).toMatchObject({ errorCode: 403 })
  })

  it('reads the users page by page (keyset): every user once, in id order, whatever the page size', async () => {
    const scope = { companyId: world.companyA, maxRank: 3, ldapOnly: false }
    const whole = JSON.parse(await text(await streamUserList(tdb.db, scope, 'all'))) as { data: { csvContent: string[] } }
    for (const size of [1, 2, 5]) {
      expect(JSON.parse(await text(await streamUserList(tdb.db, scope, 'all', size)))).toEqual(whole)
    }
    expect(whole.data.csvContent).toHaveLength(1 + 6)
  })
})
