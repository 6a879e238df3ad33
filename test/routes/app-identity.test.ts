import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { basic, bearer, buildTestApp, TEST_SECRETS_KEY, type TestApp } from '../helpers/app.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { report } from '../helpers/reliability.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { createApplicationService, type CreatedApplication } from '../../src/services/applications.js'

const USERS = '/api/rainbow/admin/v1.0/users'
const LOGIN = '/api/rainbow/authentication/v1.0/login'
const CHALLENGE = 'Zq3xw9Lk2mNp4Rt6Vy8Ab0'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
/** x-rainbow-app-auth as the SDK builds it: Basic base64(appId:sha256hex(appSecret + proof)). */
const appAuth = (app: CreatedApplication, proof: string) => basic(app.appId, sha256(app.appSecret + proof))

describe.each(dbKinds())('application identity on a Bearer call on %s', (kind) => {
  let tdb: TestDb
  let world: World
  let appX: CreatedApplication
  let appY: CreatedApplication
  const apps: Record<'lenient' | 'strict', TestApp> = {} as Record<'lenient' | 'strict', TestApp>
  const tokens = { none: '', x: '', y: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    appX = world.app
    appY = await createApplicationService({ db: tdb.db, secretsKey: deriveSecretsKey(TEST_SECRETS_KEY) }).create('app-y')
    apps.lenient = await buildTestApp(tdb.db, { REQUIRE_APP_AUTH: false })
    apps.strict = await buildTestApp(tdb.db, { REQUIRE_APP_AUTH: true })
    const signIn = async (headers: Record<string, string>) => {
      const res = await apps.lenient.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD), ...headers } })
      expect(res.statusCode).toBe(200)
      return res.json<{ token: string }>().token
    }
    tokens.none = await signIn({})
    tokens.x = await signIn({ 'x-rainbow-app-auth': appAuth(appX, PASSWORD) })
    tokens.y = await signIn({ 'x-rainbow-app-auth': appAuth(appY, PASSWORD) })
  })
  afterAll(async () => {
    await apps.lenient?.close()
    await apps.strict?.close()
    await tdb?.close()
  })

  let refused = 0
  afterEach(({ task }) => {
    report(task, { refused })
    refused = 0
  })

  async function call (mode: 'lenient' | 'strict', token: string, headers: Record<string, string>) {
    return apps[mode].inject({ method: 'GET', url: USERS, headers: { ...bearer(token), ...headers } })
  }
  async function expectForged (mode: 'lenient' | 'strict', token: string, headers: Record<string, string>) {
    const res = await call(mode, token, headers)
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ errorCode: 403, errorMsg: 'Forbidden', errorDetailsCode: 403500 })
    refused++
  }

  for (const mode of ['lenient', 'strict'] as const) {
    describe(`REQUIRE_APP_AUTH=${mode === 'strict'}`, () => {
      it('a made-up digest without x-rainbow-challenge is a 403, whatever the token carries', async () => {
        const madeUp = basic(appX.appId, 'f'.repeat(64))
        for (const token of [tokens.none, tokens.x, tokens.y]) {
          await expectForged(mode, token, { 'x-rainbow-app-auth': madeUp })
        }
        // Even the real digest of the password proves nothing on a Bearer call: the password is not sent there.
        await expectForged(mode, tokens.none, { 'x-rainbow-app-auth': appAuth(appX, PASSWORD) })
        await expectForged(mode, tokens.none, { 'x-rainbow-app-auth': madeUp, 'x-rainbow-challenge': '' })
      })

      it('a wrong digest with a challenge is a 403', async () => {
        const wrong = basic(appX.appId, sha256('not-the-secret' + CHALLENGE))
        for (const token of [tokens.none, tokens.x]) {
          await expectForged(mode, token, { 'x-rainbow-app-auth': wrong, 'x-rainbow-challenge': CHALLENGE })
        }
        await expectForged(mode, tokens.x, { 'x-rainbow-app-auth': appAuth(appX, 'another-challenge'), 'x-rainbow-challenge': CHALLENGE })
      })

      it('a valid digest of application X on a token of application Y is a 403', async () => {
        await expectForged(mode, tokens.y, { 'x-rainbow-app-auth': appAuth(appX, CHALLENGE), 'x-rainbow-challenge': CHALLENGE })
        await expectForged(mode, tokens.x, { 'x-rainbow-app-auth': appAuth(appY, CHALLENGE), 'x-rainbow-challenge': CHALLENGE })
      })

      it('an APIKey of another application than the token\'s is a 403', async () => {
        await expectForged(mode, tokens.y, { apikey: appX.apiToken })
        await expectForged(mode, tokens.y, { 'x-rainbow-app-auth': appX.apiToken })
      })

      it('a valid digest of the token\'s application over the challenge, or its APIKey, is accepted', async () => {
        const accepted: Array<Record<string, string>> = [
          { 'x-rainbow-app-auth': appAuth(appX, CHALLENGE), 'x-rainbow-challenge': CHALLENGE },
          { apikey: appX.apiToken },
          {},
        ]
        for (const headers of accepted) {
          const res = await call(mode, tokens.x, headers)
          expect(res.statusCode).toBe(200)
        }
      })

      it('a token issued without an application gets one only from a proven credential', async () => {
        const proven = await call(mode, tokens.none, { 'x-rainbow-app-auth': appAuth(appY, CHALLENGE), 'x-rainbow-challenge': CHALLENGE })
        expect(proven.statusCode).toBe(200)
        const byKey = await call(mode, tokens.none, { apikey: appY.apiToken })
        expect(byKey.statusCode).toBe(200)
        const bare = await call(mode, tokens.none, {})
        if (mode === 'strict') {
          expect(bare.statusCode).toBe(403)
          expect(bare.json()).toMatchObject({ errorCode: 403, errorDetailsCode: 403501 })
          refused++
        } else {
          expect(bare.statusCode).toBe(200)
        }
      })
    })
  }
})
