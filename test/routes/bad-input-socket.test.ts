import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'

// What app.inject cannot send: requests Node's HTTP parser refuses (431 headers too large, a broken
// request line) and URLs exactly as written on the wire. Every answer is the Rainbow envelope and
// none repeats the URL. No database work happens here, so one kind is enough.

interface RawAnswer { status: number, headers: string, body: string }

function raw (port: number, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const head = split === -1 ? text : text.slice(0, split)
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: split === -1 ? '' : text.slice(split + 4) })
    })
    socket.end(request)
  })
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`

function expectEnvelope (a: RawAnswer, status: number, detailsCode?: number): void {
  expect(a.status, a.headers + a.body).toBe(status)
  expect(a.headers).toMatch(/content-type: application\/json/i)
  const body = JSON.parse(a.body) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['errorCode', 'errorDetails', 'errorDetailsCode', 'errorMsg'])
  expect(body.errorCode).toBe(status)
  if (detailsCode !== undefined) expect(body.errorDetailsCode).toBe(detailsCode)
}

describe('bad requests on a real socket', () => {
  let tdb: TestDb
  let app: TestApp
  let port = 0

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    app = await buildTestApp(tdb.db)
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  it('headers over the size limit: 431 in the envelope', async () => {
    const a = await raw(port, get('/api/rainbow/massprovisioning/v1.0/about', `x-big: ${'h'.repeat(20_000)}\r\n`))
    expectEnvelope(a, 431, 431000)
    expect(a.body).not.toContain('hhhh')
  })

  it('a request line or header the parser refuses: 400 in the envelope, the URL not repeated', async () => {
    for (const request of [
      'GET /api/rainbow/<q"z>\u0001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      get('/api/rainbow/massprovisioning/v1.0/about', 'bad header: x\r\n'),
      'NOT-HTTP\r\n\r\n',
    ]) {
      const a = await raw(port, request)
      expectEnvelope(a, 400, 400003)
      expect(a.body).not.toContain('<q')
    }
  })

  it('invalid percent-encoding and encoded surrogates: 400 (400002) without the URL', async () => {
    for (const path of ['/%zz', '/api/rainbow/admin/v1.0/pbxs/%zz/phonenumbers', '/api/rainbow/admin/v1.0/users/%ED%A0%80', '/api/rainbow/massprovisioning/v1.0/users/imports/%E0%A4%A/details', '/api/rainbow/massprovisioning/v1.0/%3Cq%22z%3E%']) {
      const a = await raw(port, get(path))
      expectEnvelope(a, 400, 400002)
      expect(a.body, path).not.toContain(path)
      expect(a.body).not.toContain('<q')
    }
  })

  it('a path parameter over the router limit: 414 (414000) without the URL', async () => {
    const a = await raw(port, get(`/api/rainbow/admin/v1.0/users/${'u'.repeat(500)}`))
    expectEnvelope(a, 414, 414000)
    expect(a.body).not.toContain('uuuuu')
  })

  it('an unknown path with markup and CRLF-looking escapes: 404 echoing it percent-encoded only', async () => {
    const a = await raw(port, get('/api/<q"z>/%0D%0ASet-Cookie:x=1'))
    expectEnvelope(a, 404, 404001)
    expect(JSON.parse(a.body).errorDetails).toBe('Route GET /api/%3Cq%22z%3E/%0D%0ASet-Cookie:x=1 not found')
    expect(a.headers).not.toMatch(/set-cookie/i)
  })
})
