import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKeyService } from '../../src/services/api-keys.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const CHALLENGE = 'AbCdEfGhIjKlMnOpQrStUv'

// The SDK's API-key mode (contract §8): x-rainbow-api-key, x-rainbow-challenge, and
// x-rainbow-app-auth = Basic base64(appId:sha256hex(appSecret + challenge)), no Authorization.
describe.each(dbKinds())('API-key mode on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const keys = { admin: '', adminId: '', plain: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    const service = createApiKeyService(tdb.db)
    const admin = await service.create(world.adminA.id)
    keys.admin = admin.apiKey
    keys.adminId = admin.keyId
    keys.plain = (await service.create(world.plainUser.id)).apiKey
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const digest = (secret: string, challenge: string) => createHash('sha256').update(secret + challenge).digest('hex')
  const sdkHeaders = (apiKey: string, opts: { secret?: string, challenge?: string, sentChallenge?: string | null } = {}) => ({
    'x-rainbow-api-key': apiKey,
    ...(opts.sentChallenge === null ? {} : { 'x-rainbow-challenge': opts.sentChallenge ?? CHALLENGE }),
    'x-rainbow-app-auth': `Basic ${Buffer.from(`${world.app.appId}:${digest(opts.secret ?? world.app.appSecret, opts.challenge ?? CHALLENGE)}`).toString('base64')}`,
    'x-rainbow-client': 'sdk_node',
  })
  const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers })

  it('a user\'s key with the application\'s digest authenticates as that user on every route', async () => {
    const list = await get(`${MP}/users/imports`, sdkHeaders(keys.admin))
    expect(list.statusCode, list.body).toBe(200)
    expect(list.json()).toHaveProperty('data')
    const check = await app.inject({
      method: 'POST', url: `${MP}/users/imports/check`, headers: { ...sdkHeaders(keys.admin), 'content-type': 'text/csv' }, payload: `__action__;loginEmail\ncreate;k-${Date.now()}@example.com\n`,
    })
    expect(check.statusCode, check.body).toBe(200)
    const self = await get(`/api/rainbow/admin/v1.0/users/${world.adminA.id}`, sdkHeaders(keys.admin))
    expect(self.json().data).toMatchObject({ id: world.adminA.id, companyId: world.companyA })
    // The SDK also sends "Authorization: Bearer null" on some calls: no token, so the key decides.
    expect((await get(`${MP}/users/imports`, { ...sdkHeaders(keys.admin), authorization: 'Bearer null' })).statusCode).toBe(200)
    // A plain user's key: the end-user routes, and the admin rules (403) elsewhere.
    expect((await get(`/api/rainbow/enduser/v1.0/users/${world.plainUser.id}`, sdkHeaders(keys.plain))).statusCode).toBe(200)
    expect((await get(`${MP}/users/imports`, sdkHeaders(keys.plain))).json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403000 })
  })

  it('a wrong digest, another challenge or no application proof is a 403 in the Rainbow envelope', async () => {
    for (const headers of [
      sdkHeaders(keys.admin, { secret: 'not-the-secret' }),
      sdkHeaders(keys.admin, { challenge: 'another-challenge' }),
      sdkHeaders(keys.admin, { sentChallenge: null }),
    ]) {
      const res = await get(`${MP}/users/imports`, headers)
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ errorCode: 403, errorMsg: 'Forbidden', errorDetailsCode: 403500 })
    }
    const bare = await get(`${MP}/users/imports`, { 'x-rainbow-api-key': keys.admin })
    expect(bare.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403501 })
  })

  it('an unknown or revoked key is a 401, whatever the digest', async () => {
    const unknown = await get(`${MP}/users/imports`, sdkHeaders('no-such-key'))
    expect(unknown.statusCode).toBe(401)
    expect(unknown.json()).toMatchObject({ errorCode: 401, errorDetailsCode: 401501, errorDetails: 'unknown or revoked API key' })
    const service = createApiKeyService(tdb.db)
    const doomed = await service.create(world.adminA.id)
    expect((await get(`${MP}/users/imports`, sdkHeaders(doomed.apiKey))).statusCode).toBe(200)
    await service.revoke(doomed.keyId)
    expect((await get(`${MP}/users/imports`, sdkHeaders(doomed.apiKey))).statusCode).toBe(401)
    // Revoking one key leaves the others.
    expect((await get(`${MP}/users/imports`, sdkHeaders(keys.admin))).statusCode).toBe(200)
  })

  it('keys are stored hashed and listed without their value', async () => {
    const stored = await tdb.db.query<{ key_hash: string }>('SELECT key_hash FROM user_api_keys WHERE id = $1', [keys.adminId])
    expect(stored).toEqual([{ key_hash: createHash('sha256').update(keys.admin).digest('hex') }])
    const listed = await createApiKeyService(tdb.db).list(world.adminA.id)
    expect(listed.find((k) => k.keyId === keys.adminId)).toEqual({ keyId: keys.adminId, createdAt: expect.any(String), revokedAt: null })
    expect(JSON.stringify(listed)).not.toContain(keys.admin)
  })
})
