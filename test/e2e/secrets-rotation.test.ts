import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { openRuntime } from '../../src/bootstrap.js'
import { loadConfig } from '../../src/config.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { createApplicationService } from '../../src/services/applications.js'
import { assertKeysOpenStore, rekeySecrets, SecretsKeyError } from '../../src/services/secrets-key.js'
import { basic, bearer, buildTestApp, login } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'

// Issue 13 item 3: SECRETS_KEY is a key of its own (never JWT_SECRET), a key that cannot open the
// store stops the start with what to do, stores re-encrypt with `massprov rekey-secrets`, and
// JWT_SECRET_PREVIOUS keeps the tokens in flight valid through a JWT rotation.

const KEY_1 = 'first-secrets-key-first-secrets-key-0123'
const KEY_2 = 'second-secrets-key-second-secrets-key-0123'
const LOGIN = '/api/rainbow/authentication/v1.0/login'
const digest = (appId: string, secret: string, proof: string) => `Basic ${Buffer.from(`${appId}:${createHash('sha256').update(secret + proof).digest('hex')}`).toString('base64')}`

describe('secrets rotation', () => {
  let tdb: TestDb
  let world: World
  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  it('a rotated JWT_SECRET: tokens of the old key keep working with JWT_SECRET_PREVIOUS, new ones are signed with the new key, and without it the old ones are refused', async ({ task }) => {
    const oldKey = 'old-jwt-secret-old-jwt-secret-old-jwt-01'
    const newKey = 'new-jwt-secret-new-jwt-secret-new-jwt-01'
    const before = await buildTestApp(tdb.db, { JWT_SECRET: oldKey })
    const during = await buildTestApp(tdb.db, { JWT_SECRET: newKey, JWT_SECRET_PREVIOUS: oldKey })
    const after = await buildTestApp(tdb.db, { JWT_SECRET: newKey })
    try {
      const inFlight = await login(before, world.adminA.email, PASSWORD)
      const users = (app: typeof before, token: string) => app.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/users', headers: bearer(token) })
      expect((await users(during, inFlight)).statusCode).toBe(200)
      const fresh = await login(during, world.adminA.email, PASSWORD)
      expect((await users(after, fresh)).statusCode).toBe(200)
      expect((await users(before, fresh)).statusCode).toBe(401)
      const refused = await users(after, inFlight)
      expect(refused.statusCode).toBe(401)
      expect(refused.json()).toMatchObject({ errorDetailsCode: 401501 })
      // The previous key is for verifying only: a forged token signed with an unrelated key is still refused.
      const stranger = await buildTestApp(tdb.db, { JWT_SECRET: 'stranger-secret-stranger-secret-stranger1' })
      try {
        expect((await users(during, await login(stranger, world.adminA.email, PASSWORD))).statusCode).toBe(401)
      } finally {
        await stranger.close()
      }
      report(task, { inFlightAcceptedDuringRotation: true, refusedAfter: refused.statusCode })
    } finally {
      await Promise.all([before.close(), during.close(), after.close()])
    }
  })

  it('a SECRETS_KEY that cannot open the store is refused up front; SECRETS_KEY_PREVIOUS opens it meanwhile; rekeySecrets moves it once and is idempotent', async () => {
    // The store holds only this application, under KEY_1 (the world's own is under the test key).
    await tdb.db.query('DELETE FROM applications')
    const made = await createApplicationService({ db: tdb.db, secretsKey: deriveSecretsKey(KEY_1) }).create('rotating app')
    await expect(assertKeysOpenStore(tdb.db, { current: deriveSecretsKey(KEY_2) })).rejects.toThrow(SecretsKeyError)
    await expect(assertKeysOpenStore(tdb.db, { current: deriveSecretsKey(KEY_2) })).rejects.toThrow(/massprov rekey-secrets/)

    const during = await buildTestApp(tdb.db, { SECRETS_KEY: KEY_2, SECRETS_KEY_PREVIOUS: KEY_1 })
    try {
      const res = await during.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD), 'x-rainbow-app-auth': digest(made.appId, made.appSecret, PASSWORD) } })
      expect(res.statusCode, res.body).toBe(200)
    } finally {
      await during.close()
    }

    const moved = await rekeySecrets(tdb.db, deriveSecretsKey(KEY_1), deriveSecretsKey(KEY_2))
    expect(moved.reencrypted).toBe(1)
    const again = await rekeySecrets(tdb.db, deriveSecretsKey(KEY_1), deriveSecretsKey(KEY_2))
    expect(again.reencrypted).toBe(0)
    await expect(rekeySecrets(tdb.db, deriveSecretsKey('unrelated-key-unrelated-key-unrelated-01'), deriveSecretsKey(KEY_1))).rejects.toThrow(/opens with neither key: nothing was changed/)

    const afterwards = await buildTestApp(tdb.db, { SECRETS_KEY: KEY_2 })
    try {
      const res = await afterwards.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic(world.adminA.email, PASSWORD), 'x-rainbow-app-auth': digest(made.appId, made.appSecret, PASSWORD) } })
      expect(res.statusCode, res.body).toBe(200)
    } finally {
      await afterwards.close()
    }
  })

  it('SECRETS_KEY is required with DATABASE_URL, and never derived from JWT_SECRET', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x', JWT_SECRET: 'x'.repeat(32) })).toThrow(/SECRETS_KEY is required when DATABASE_URL is set/)
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: 'y'.repeat(32) }).SECRETS_KEY).toBe('y'.repeat(32))
  })
})

describe('embedded SECRETS_KEY: generated in DATA_DIR, takes over an older store, and a wrong one stops the server', () => {
  const work = mkdtempSync(join(tmpdir(), 'massprov-secrets-'))
  const dataDir = join(work, 'data')
  const procs: Proc[] = []
  afterAll(() => {
    for (const p of procs) p.child.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  })

  it('a data directory from before SECRETS_KEY: its secrets are re-encrypted once under the generated key', async () => {
    const jwtSecret = 'legacy-jwt-secret-legacy-jwt-secret-0123'
    const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: jwtSecret })
    const logger = pino({ level: 'silent' })
    const first = await openRuntime(config, logger, { migrate: true })
    let legacy: Awaited<ReturnType<ReturnType<typeof createApplicationService>['create']>>
    try {
      // As the server stored them before: under the key derived from JWT_SECRET.
      legacy = await createApplicationService({ db: first.db, secretsKey: deriveSecretsKey(jwtSecret) }).create('legacy app')
    } finally {
      await first.close()
    }
    rmSync(join(dataDir, 'secrets-key'))
    const second = await openRuntime(config, logger, { migrate: true })
    try {
      expect(existsSync(join(dataDir, 'secrets-key'))).toBe(true)
      const generated = readFileSync(join(dataDir, 'secrets-key'), 'utf8').trim()
      expect(second.secretsKey).toBe(generated)
      expect(generated).not.toBe(jwtSecret)
      await assertKeysOpenStore(second.db, { current: deriveSecretsKey(generated) })
      const verified = await createApplicationService({ db: second.db, secretsKey: deriveSecretsKey(generated) }).verifyLogin(digest(legacy.appId, legacy.appSecret, 'challenge-1'), 'challenge-1')
      expect(verified.id).toBe(legacy.appId)
    } finally {
      await second.close()
    }
  }, 60_000)

  it('the server refuses to start with a SECRETS_KEY that cannot open the store, naming the CLI step; it starts with the right one', async () => {
    const start = (env: Record<string, string>) => spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({ DATA_DIR: dataDir, PORT: '0', ...env }), procs)
    const wrong = start({ JWT_SECRET: 'legacy-jwt-secret-legacy-jwt-secret-0123', SECRETS_KEY: KEY_2 })
    const { code } = await within(60_000, 'refused start', wrong.exited)
    expect(code).toBe(1)
    expect(wrong.out.stderr).toMatch(/massprov: SECRETS_KEY cannot decrypt \d+ of \d+ stored application secrets/)
    expect(wrong.out.stderr).toContain('massprov rekey-secrets')
    expect(wrong.out.stderr).not.toMatch(/\n\s+at /)

    const right = start({ JWT_SECRET: 'legacy-jwt-secret-legacy-jwt-secret-0123' })
    await within(60_000, 'server banner', new Promise<void>((resolve, reject) => {
      right.child.stdout!.on('data', () => { if (/massprov is listening on http:\/\/\S+/.test(right.out.stdout)) resolve() })
      right.child.on('exit', (c) => reject(new Error(`server exited (${c})\n${right.out.stderr}`)))
    }))
    right.child.kill('SIGTERM')
    await within(15_000, 'exit', right.exited)
  }, 120_000)
})
