import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { basic, bearer, TEST_ISSUER, TEST_JWT_SECRET, TEST_SECRETS_KEY } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'

function sink () {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  return { lines, stream }
}

describe('logs', () => {
  let tdb: TestDb
  let world: World
  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  it('redact credentials wherever they sit in a logged object', () => {
    const { lines, stream } = sink()
    const log = createLogger({ level: 'info' }, stream)
    log.info({ password: 'p1-secret', user: { password: 'p2-secret', token: 't-secret' }, req: { headers: { authorization: 'Bearer abc.def.ghi', apikey: 'k-secret', 'x-rainbow-api-key': 'u-secret' } }, config: { JWT_SECRET: 'j-secret' } }, 'hello')
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toMatch(/secret|abc\.def/)
    expect(JSON.parse(lines[0]!).user.password).toBe('[redacted]')
  })

  it('request logs carry the request id, and after authentication the user and company; never the Basic password or the token', async () => {
    const { lines, stream } = sink()
    const app = await buildApp({
      db: tdb.db,
      config: { JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, JWT_TTL: 3600, JWT_ISSUER: TEST_ISSUER, REQUIRE_APP_AUTH: false },
      logger: createLogger({ level: 'info' }, stream),
    })
    await app.ready()
    const login = await app.inject({ method: 'GET', url: '/api/rainbow/authentication/v1.0/login', headers: { authorization: basic(world.adminA.email, PASSWORD) } })
    const token = login.json<{ token: string }>().token
    await app.inject({ method: 'GET', url: '/api/rainbow/massprovisioning/v1.0/users/imports', headers: { ...bearer(token), 'x-rainbow-correlation-id': 'corr-log-1' } })
    await app.close()

    const all = lines.join('\n')
    expect(all).not.toContain(PASSWORD)
    expect(all).not.toContain(token)
    expect(all).not.toContain(Buffer.from(`${world.adminA.email}:${PASSWORD}`).toString('base64'))
    const entries = lines.map((l) => JSON.parse(l) as { reqId?: string, companyId?: string, userId?: string, msg: string })
    const completed = entries.find((e) => e.reqId === 'corr-log-1' && e.msg === 'request completed')
    expect(completed).toMatchObject({ companyId: world.companyA, userId: world.adminA.id })
  })
})
