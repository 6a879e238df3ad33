import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findCompany } from '../../../src/db/companies-repository.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'

const ADMIN = '/api/rainbow/admin/v1.0'
const MP = '/api/rainbow/massprovisioning/v1.0'

type Who = 'adminA' | 'orgAdmin' | 'superadmin' | 'plainUser'
interface Company { id: string, name: string, organizationId: string | null }

describe.each(dbKinds())('GET /admin/v1.0/companies on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  let other: World
  let names: { A: string, B: string, C: string }
  let tag: string
  const tokens: Record<Who, string> = { adminA: '', orgAdmin: '', superadmin: '', plainUser: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    // A second world: companies of other organizations, which only the superadmin may list.
    other = await createWorld(tdb.db)
    const name = async (id: string) => (await findCompany(tdb.db, id))!.name
    names = { A: await name(world.companyA), B: await name(world.companyB), C: await name(world.companyC) }
    tag = names.A.slice(2)
    for (const who of Object.keys(tokens) as Who[]) tokens[who] = await login(app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const get = (who: Who | undefined, url: string) => app.inject({ method: 'GET', url, headers: who ? bearer(tokens[who]) : {} })
  const companies = (who: Who | undefined, query = '') => get(who, `${ADMIN}/companies${query}`)
  const ids = (body: { data: Company[] }) => body.data.map((c) => c.id)

  it('a superadmin lists every company of the server, by name, with its organization', async () => {
    const res = await companies('superadmin', '?limit=1000')
    expect(res.statusCode).toBe(200)
    const body = res.json<{ data: Company[], total: number, limit: number, offset: number }>()
    const count = (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM companies'))[0]!.n
    expect(body).toMatchObject({ total: count, limit: 1000, offset: 0 })
    expect(ids(body)).toEqual(expect.arrayContaining([world.companyA, world.companyB, world.companyC, other.companyA, other.companyC]))
    const sorted = [...body.data].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.id < y.id ? -1 : 1))
    expect(body.data).toEqual(sorted)
    const a = body.data.find((c) => c.id === world.companyA)!
    const b = body.data.find((c) => c.id === world.companyB)!
    const c = body.data.find((c) => c.id === world.companyC)!
    expect(Object.keys(a).sort()).toEqual(['id', 'name', 'organizationId'])
    expect(a).toMatchObject({ name: names.A, organizationId: expect.stringMatching(/^[0-9a-f]{24}$/) })
    expect(b.organizationId).toBe(a.organizationId)
    expect(c.organizationId).not.toBe(a.organizationId)
  })

  it('an organization_admin lists the companies of its organization only (A and B)', async () => {
    const body = (await companies('orgAdmin')).json()
    expect(body).toMatchObject({ total: 2, limit: 100, offset: 0 })
    expect(body.data.map((c: Company) => c.name)).toEqual([names.A, names.B])
  })

  it('a company_admin lists its own company only', async () => {
    const body = (await companies('adminA')).json()
    expect(body).toMatchObject({ total: 1, data: [{ id: world.companyA, name: names.A }] })
  })

  it('a user without administrator rights gets 403 and an anonymous caller 401, before its parameters are read', async () => {
    const plain = await companies('plainUser')
    expect(plain.statusCode).toBe(403)
    expect(plain.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403000 })
    expect((await companies('plainUser', '?limit=0')).statusCode).toBe(403)
    expect((await companies(undefined)).statusCode).toBe(401)
    expect((await companies(undefined, '?limit=0')).statusCode).toBe(401)
  })

  it('pages with limit and offset, the total counting every company in scope', async () => {
    const first = (await companies('orgAdmin', '?limit=1')).json()
    expect(first).toMatchObject({ total: 2, limit: 1, offset: 0 })
    expect(ids(first)).toEqual([world.companyA])
    const second = (await companies('orgAdmin', '?limit=1&offset=1')).json()
    expect(second).toMatchObject({ total: 2, limit: 1, offset: 1 })
    expect(ids(second)).toEqual([world.companyB])
    expect((await companies('orgAdmin', '?offset=2')).json()).toMatchObject({ total: 2, data: [] })
  })

  it('filters by a part of the name, without case, within the caller\'s scope', async () => {
    const mine = (await companies('superadmin', `?name=${encodeURIComponent(tag.toUpperCase())}`)).json()
    expect(mine.total).toBe(3)
    expect(ids(mine)).toEqual([world.companyA, world.companyB, world.companyC])
    expect(ids((await companies('superadmin', `?name=${encodeURIComponent(`b-${tag}`)}`)).json())).toEqual([world.companyB])
    expect(ids((await companies('orgAdmin', `?name=${encodeURIComponent(names.C)}`)).json())).toEqual([])
    expect(ids((await companies('adminA', `?name=${encodeURIComponent(names.B)}`)).json())).toEqual([])
    // LIKE's wildcards are plain characters here.
    expect((await companies('superadmin', '?name=%25')).json()).toMatchObject({ total: 0, data: [] })
    expect((await companies('superadmin', '?name=_')).json()).toMatchObject({ total: 0, data: [] })
    expect((await companies('orgAdmin', '?name=')).json().total).toBe(2)
  })

  it('bad parameters are a 400 in the Rainbow envelope naming the parameter', async () => {
    for (const [query, param] of [['?limit=0', 'limit'], ['?limit=1001', 'limit'], ['?limit=x', 'limit'], ['?offset=-1', 'offset'], [`?name=${'a'.repeat(129)}`, 'name'], ['?name=a%00b', 'name']]) {
      const res = await companies('superadmin', query)
      expect(res.statusCode, query).toBe(400)
      expect(res.json(), query).toMatchObject({ errorCode: 400, errorDetailsCode: 400000 })
      expect(JSON.stringify(res.json().errorDetails), query).toContain(param)
    }
    expect((await companies('superadmin', `?name=${'a'.repeat(128)}`)).statusCode).toBe(200)
  })

  it('a lone surrogate, invalid UTF-8 or a trailing slash is never a 5xx: a 4xx in the envelope, or the list', async () => {
    for (const query of ['?name=%ED%A0%80', '?name=%F0', '?name=%uD800', '?limit=1%00']) {
      const res = await companies('superadmin', query)
      expect(res.statusCode, query).toBeLessThan(500)
      if (res.statusCode >= 400) expect(res.json(), query).toMatchObject({ errorCode: res.statusCode })
    }
    const slash = await get('superadmin', `${ADMIN}/companies/`)
    expect(slash.statusCode).toBeLessThan(500)
    if (slash.statusCode >= 400) expect(slash.json()).toMatchObject({ errorCode: slash.statusCode })
  })

  it('the console passes the chosen company on every call: a company_admin\'s own companyId is accepted wherever it passes it', async () => {
    const own = `companyId=${world.companyA}`
    for (const url of [`${ADMIN}/users?limit=1&${own}`, `${ADMIN}/pbxs?${own}`, `${MP}/users/imports?limit=200&${own}`, `${MP}/users/template?mode=user&${own}`]) {
      expect((await get('adminA', url)).statusCode, url).toBe(200)
    }
    const check = await app.inject({
      method: 'POST',
      url: `${MP}/users/imports/check?${own}`,
      headers: { ...bearer(tokens.adminA), 'content-type': 'text/csv' },
      payload: `__action__;loginEmail\ncreate;picker-${tag}@example.com\n`,
    })
    expect(check.statusCode).toBe(200)
    expect(check.json().data.errors).toEqual([])
    expect((await get('adminA', `${ADMIN}/users?companyId=${world.companyB}`)).statusCode).toBe(403)
  })
})
