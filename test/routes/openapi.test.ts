import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/openapi/document.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

interface Operation { parameters?: Array<{ name: string, in: string }>, responses: Record<string, unknown>, requestBody?: { content: Record<string, unknown> } }
type Doc = { openapi: string, paths: Record<string, Record<string, Operation>> }

describe('OpenAPI document and the browsable UI', () => {
  let tdb: TestDb
  let app: TestApp
  let served: Doc

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    app = await buildTestApp(tdb.db)
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    served = res.json<Doc>()
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  it('the committed openapi/openapi.json is the document the routes generate (no drift)', async () => {
    const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')
    expect(JSON.parse(committed)).toEqual(JSON.parse(await openApiDocument()))
    expect(served).toEqual(JSON.parse(committed))
  })

  it('lists every route the server answers, with OpenAPI 3.1 paths', () => {
    expect(served.openapi).toBe('3.1.0')
    const routes = app.printRoutes({ commonPrefix: false })
    for (const path of Object.keys(served.paths)) {
      const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1')
      const last = fastifyPath.split('/').filter(Boolean).at(-1) ?? ''
      expect(routes, path).toContain(last)
    }
    expect(Object.keys(served.paths)).toEqual(expect.arrayContaining([
      '/api/rainbow/massprovisioning/v1.0/users/imports',
      '/api/rainbow/massprovisioning/v1.0/users/imports/check',
      '/api/rainbow/massprovisioning/v1.0/users/imports/synchronize',
      '/api/rainbow/massprovisioning/v1.0/users/imports/{reqId}/details',
      '/api/rainbow/massprovisioning/v1.0/users/template',
      '/api/rainbow/authentication/v1.0/login',
    ]))
  })

  it('CSV uploads state their body types, query parameters and error statuses with codes', () => {
    const op = served.paths['/api/rainbow/massprovisioning/v1.0/users/imports']!.post!
    expect(Object.keys(op.requestBody!.content)).toEqual(['text/csv', 'text/plain', 'application/octet-stream'])
    expect(op.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['companyId', 'label', 'nostrict', 'delimiter', 'comment']))
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '409', '413', '415']))
    const bad = JSON.stringify(op.responses['400'])
    for (const code of [400501, 400502, 400504, 400506, 400508]) expect(bad).toContain(String(code))
  })

  it('documents the Rainbow Voice routes as CSV uploads, and the Cloud PBX views\' 404', () => {
    for (const path of ['/users/imports/rainbowvoice', '/users/imports/rainbowvoice/check']) {
      const op = served.paths[`/api/rainbow/massprovisioning/v1.0${path}`]!.post!
      expect(Object.keys(op.requestBody!.content)).toEqual(['text/csv', 'text/plain', 'application/octet-stream'])
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '415']))
    }
    for (const path of ['/cloudpbx', '/cloudpbx/devices', '/cloudpbx/ddis']) {
      expect(Object.keys(served.paths[`/api/rainbow/admin/v1.0${path}`]!.get!.responses)).toEqual(expect.arrayContaining(['200', '403', '404']))
    }
  })

  it('serves a browsable UI at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toMatch(/swagger/i)
  })
})
