import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '../src/db/db.js'
import { openPglite } from '../src/db/pglite.js'
import { acceptImport } from '../src/provisioning/intake.js'
import { buildTestApp } from './helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from './helpers/databases.js'

// The admin CLI as an operator runs it: bin/massprov.js in a child process, the database chosen by the environment.

const ROOT = new URL('../', import.meta.url).pathname
const CONFIG_KEYS = ['PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'DATABASE_POOL_SIZE', 'REDIS_URL', 'JWT_SECRET', 'JWT_TTL', 'JWT_ISSUER',
  'SECRETS_KEY', 'SECRETS_KEY_PREVIOUS', 'JWT_SECRET_PREVIOUS', 'REQUIRE_APP_AUTH', 'LOG_LEVEL', 'XMPP_DOMAIN', 'MIGRATE_ON_START', 'SEED_DEMO']
const CLI_JWT_SECRET = 'cli-test-secret-cli-test-secret-0123456789'
const CLI_SECRETS_KEY = 'cli-test-secrets-key-cli-test-secrets-key-01'
const PASSWORD = 'Cl1-admin!pass'
const ID = /^[0-9a-f]{24}$/
const LOGIN = '/api/rainbow/authentication/v1.0/login'

interface CliResult { code: number | null, stdout: string, stderr: string }

/** `stdin` is piped to the child, as `printf %s "$P" | massprov …` would; without it stdin is empty. */
function cli (args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> {
  const child = spawn(process.execPath, ['bin/massprov.js', ...args], {
    cwd: ROOT,
    // Every massprov setting the runner may carry is blanked (empty = unset), then the leg's own are set.
    env: { ...process.env, ...Object.fromEntries([...CONFIG_KEYS, 'MASSPROV_PASSWORD'].map((k) => [k, ''])), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end(stdin)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`massprov ${args.join(' ')} did not finish within 30 s\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A successful run: exit 0, one JSON document on stdout. */
function ok (r: CliResult): Record<string, unknown> {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

/** A refused run: exit 1, a message on stderr, nothing on stdout. */
function refused (r: CliResult, message: RegExp): void {
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(message)
  expect(r.code, r.stderr).toBe(1)
}

describe('massprov CLI without a database', () => {
  it('an unknown command exits 2 with the usage', async () => {
    const r = await cli(['frobnicate', '--name', 'x'], {})
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('unknown command "frobnicate"')
    expect(r.stderr).toMatch(/usage: massprov <command>[\s\S]*create-company --name N/)
  })

  it('an unknown option is refused before the database is opened', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'massprov-cli-'))
    try {
      refused(await cli(['create-company', '--name', 'x', '--colour', 'red'], { DATA_DIR: dataDir }), /massprov create-company: .*'--colour'/)
      expect(readdirSync(dataDir)).toEqual([])
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

// The legs use separate databases and run side by side (each is mostly waiting on child processes);
// within a leg the steps build on each other.
describe.concurrent.each(dbKinds())('massprov CLI on %s', (kind) => {
  describe.sequential('step by step', () => {
    const work = mkdtempSync(join(tmpdir(), 'massprov-cli-'))
    const dataDir = join(work, 'data')
    let tdb: TestDb | undefined
    let env: Record<string, string>
    const run = (...args: string[]) => cli(args, env)
    const runWith = (stdin: string, ...args: string[]) => cli(args, env, stdin)

    let plainCompany: string
    let orgCompany: string
    const admins: Record<string, { email: string, userId: string }> = {}
    let app: { appId: string, appSecret: string, apiToken: string }

    beforeAll(async () => {
      if (kind === 'postgres') {
        tdb = await openTestDb('postgres')
        env = { DATABASE_URL: tdb.url!, JWT_SECRET: CLI_JWT_SECRET, SECRETS_KEY: CLI_SECRETS_KEY }
      } else {
        // Start from the run's migrated dump (~1 s) rather than a PGlite initdb in the first child (~6 s of
        // two cores); a fresh directory's first start is what the e2e server test covers.
        mkdirSync(dataDir)
        const seed = await openPglite(join(dataDir, 'pgdata'), new Blob([readFileSync(inject('pgliteDump'))]))
        await seed.close()
        env = { DATA_DIR: dataDir }
      }
    })
    afterAll(async () => {
      await tdb?.close()
      rmSync(work, { recursive: true, force: true })
    })

    /** PGlite is one process per data directory: its runs take turns; PostgreSQL's may overlap. */
    const each = <T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> =>
      kind === 'postgres' ? Promise.all(items.map(fn)) : items.reduce<Promise<R[]>>(async (acc, item) => [...await acc, await fn(item)], Promise.resolve([]))
    const overlapping = kind === 'postgres' ? it.concurrent : it

    it('create-company prints {companyId}, with and without --organization', async () => {
      const [plain, withOrg] = (await each([['CLI Plain Co'], ['CLI Org Co', '--organization', 'CLI Org']], (a) => run('create-company', '--name', ...a))).map(ok)
      expect(Object.keys(plain!)).toEqual(['companyId'])
      expect(plain!.companyId).toMatch(ID)
      expect(Object.keys(withOrg!)).toEqual(['companyId'])
      expect(withOrg!.companyId).toMatch(ID)
      expect(withOrg!.companyId).not.toBe(plain!.companyId)
      plainCompany = plain!.companyId as string
      orgCompany = withOrg!.companyId as string
    }, 60_000)

    it('create-admin prints {userId} for each role (organization_admin needs the company with an organization); the password comes on stdin or in MASSPROV_PASSWORD', async () => {
      const roles = [['company_admin', plainCompany], ['superadmin', plainCompany], ['organization_admin', orgCompany]] as const
      await each(roles, async ([role, company]) => {
        const email = `${role}@cli.example.com`
        const args = ['create-admin', '--company', company, '--email', email, '--role', role]
        const res = ok(role === 'superadmin' ? await cli(args, { ...env, MASSPROV_PASSWORD: PASSWORD }) : await runWith(`${PASSWORD}\n`, ...args))
        expect(Object.keys(res)).toEqual(['userId'])
        expect(res.userId).toMatch(ID)
        admins[role] = { email, userId: res.userId as string }
      })
      expect(new Set(Object.values(admins).map((a) => a.userId)).size).toBe(3)
    }, 60_000)

    overlapping.each([
      ['an unknown company', ['--role', 'company_admin', '--company', '000000000000000000000000'], /company 000000000000000000000000 does not exist/],
      ['a duplicate e-mail', ['--role', 'company_admin', '--email', 'COMPANY_ADMIN@cli.example.com'], /a user with login company_admin@cli\.example\.com .* already exists/],
    ] as const)('create-admin with %s exits 1 with a message and prints nothing', async (_what, extra, message) => {
      refused(await runWith(PASSWORD, 'create-admin', '--company', plainCompany, '--email', 'refused@cli.example.com', ...extra), message)
    })

    // Refusals that never reach the database run on one leg only (PostgreSQL when there is one): each
    // PGlite run costs ~2.5 s of the two cores.
    if (kind === dbKinds().at(-1)) {
      overlapping.each([
        ['a weak password', 'weakpass', ['--role', 'company_admin'], /password must contain a capital letter/],
        ['an unknown role', PASSWORD, ['--role', 'root'], /--role must be one of superadmin, organization_admin, company_admin/],
        ['a password on the command line (ps shows argv to every user)', PASSWORD, ['--role', 'company_admin', '--password', PASSWORD], /--password is refused: .*stdin or in MASSPROV_PASSWORD/],
        ['no password at all', '', ['--role', 'company_admin'], /a password is required: send it on stdin or in MASSPROV_PASSWORD/],
      ] as const)('create-admin with %s exits 1 with a message and prints nothing', async (_what, stdin, extra, message) => {
        const r = await runWith(stdin, 'create-admin', '--company', plainCompany, '--email', 'refused@cli.example.com', ...extra)
        refused(r, message)
        if (stdin) expect(r.stderr).not.toContain(stdin)
      })

      overlapping('create-company without --name exits non-zero and says which option is missing', async () => {
        const r = await run('create-company', '--organization', 'Nameless Org')
        refused(r, /massprov create-company: --name is required/)
        expect(r.stderr).toContain('usage: massprov')
      })
    }

    overlapping('create-app prints appId, appSecret and apiToken', async () => {
      const res = ok(await run('create-app', '--name', 'CLI app'))
      expect(Object.keys(res).sort()).toEqual(['apiToken', 'appId', 'appSecret'])
      expect(res.appId).toMatch(ID)
      expect(res.appSecret).toMatch(/^[\w-]{32,}$/)
      expect(res.apiToken).toMatch(/^[\w-]{32,}$/)
      expect(res.apiToken).not.toBe(res.appSecret)
      app = res as typeof app
    })

    it('create-app --redirect-uri registers an OAuth client (confidential unless --public); update-app changes it; bad URIs and ids are refused', async () => {
      const confidential = ok(await run('create-app', '--name', 'Portal', '--redirect-uri', 'https://portal.example/cb', '--redirect-uri', 'http://127.0.0.1:8765/cb'))
      expect(confidential).toMatchObject({ clientId: confidential.appId, clientType: 'confidential', redirectUris: ['https://portal.example/cb', 'http://127.0.0.1:8765/cb'] })
      expect(confidential.clientSecret).toMatch(/^[\w-]{43}$/)
      const pub = ok(await run('create-app', '--name', 'Desktop', '--redirect-uri', 'http://[::1]:9000/cb', '--public'))
      expect(pub).toMatchObject({ clientType: 'public' })
      expect(pub.clientSecret).toBeUndefined()
      refused(await run('create-app', '--name', 'Bad', '--redirect-uri', 'http://portal.example/cb'), /must be https/)
      refused(await run('create-app', '--name', 'Bad', '--redirect-uri', 'https://*.portal.example/cb'), /wildcard/)
      const rotated = ok(await run('update-app', '--app-id', String(pub.appId), '--confidential', '--redirect-uri', 'https://desk.example/cb'))
      expect(rotated.clientSecret).toMatch(/^[\w-]{43}$/)
      refused(await run('update-app', '--app-id', '0123456789abcdef01234567', '--public'), /no application/)
      refused(await run('update-app', '--app-id', String(pub.appId), '--public', '--confidential'), /exclude each other/)
    }, 180_000)

    it('load-pbx creates, then updates; a bad line is refused with its line number', async () => {
      const file = join(work, 'inventory.csv')
      writeFileSync(file, '% PBX inventory exported for the CLI test\nshortNumber;internalNumber;number\n2001;+33900002001;+33123452001\n\n2002;;+33123452002\n2003;2003;\n')
      const first = ok(await run('load-pbx', '--company', plainCompany, '--pbx', 'CLI-PBX-1', '--file', file))
      expect(first).toMatchObject({ pbxId: 'CLI-PBX-1', pbxCreated: true, created: 3, updated: 0, total: 3 })

      writeFileSync(file, '2001;+33900002001;+33123459001\n2002;;+33123459002\n2003;2003;\n% a new one\n2004;;+33123459004\n')
      const second = ok(await run('load-pbx', '--company', plainCompany, '--pbx', 'CLI-PBX-1', '--file', file))
      expect(second).toMatchObject({ pbxId: 'CLI-PBX-1', pbxCreated: false, created: 1, updated: 3, total: 4 })

      // Line 4 counts the comment and the blank line: numbering is physical.
      writeFileSync(file, '% comment\n2005;;+33123459005\n\n2006;;0123459006\n')
      refused(await run('load-pbx', '--company', plainCompany, '--pbx', 'CLI-PBX-1', '--file', file), /line 4: number "0123459006" must be E\.164/)
    }, 60_000)

    it('load-cloudpbx loads a Rainbow Voice inventory, idempotently; a bad MAC or range is refused', async () => {
      const devices = join(work, 'devices.csv')
      const ddis = join(work, 'ddis.csv')
      writeFileSync(devices, 'macAddress;model\nAA-BB-CC-DD-EE-01;Yealink T54W\naabb.ccdd.ee02;\n% comment\naa:bb:cc:dd:ee:03;ALE-20h\n')
      writeFileSync(ddis, 'number\n+33298300501\n33298300502\n')
      const args = ['load-cloudpbx', '--company', plainCompany, '--numbering', '8000-8999', '--numbering', '0100-0199', '--devices', devices, '--ddis', ddis, '--service', 'Enterprise Demo=2', '--service', 'Voice Enterprise 3-Year prepaid=1']
      const first = ok(await run(...args))
      expect(first).toMatchObject({ cloudPbxCreated: true, rangesAdded: 2, devicesAdded: 3, ddisAdded: 2, services: [{ name: 'Enterprise Demo', licences: 2 }, { name: 'Voice Enterprise 3-Year prepaid', licences: 1 }] })
      const again = ok(await run(...args))
      expect(again).toMatchObject({ cloudPbxCreated: false, rangesAdded: 0, devicesAdded: 0, ddisAdded: 0 })

      writeFileSync(devices, 'macAddress;model\naa:bb:cc:dd:ee\n')
      refused(await run('load-cloudpbx', '--company', plainCompany, '--devices', devices), /devices: line 2: macAddress "aa:bb:cc:dd:ee" must be a MAC address/)
      refused(await run('load-cloudpbx', '--company', plainCompany, '--numbering', '8000-899'), /--numbering "8000-899" must be FIRST-LAST/)
      refused(await run('load-cloudpbx', '--company', plainCompany, '--service', 'Enterprise Demo'), /must be Name=count/)
    }, 60_000)

    it('list-users lists the company\'s admins and no password hash', async () => {
      const r = await run('list-users', '--company', plainCompany)
      const res = ok(r) as { total: number, users: Array<{ id: string, loginEmail: string, adminType: string }> }
      expect(res.total).toBe(2)
      expect(res.users.map((u) => [u.loginEmail, u.id, u.adminType]).sort()).toEqual([
        [admins.company_admin!.email, admins.company_admin!.userId, 'company_admin'],
        [admins.superadmin!.email, admins.superadmin!.userId, 'superadmin'],
      ])
      expect(r.stdout).not.toMatch(/password/i)
      expect(r.stdout).not.toContain('$argon2')
    })

    it('cancel-import ends a Pending import as Cancelled; a finished or unknown one is refused with a message', async () => {
      // The embedded leg stores the import in-process between two CLI runs (one process per directory).
      const pglite = kind === 'pglite' ? await openPglite(join(dataDir, 'pgdata')) : undefined
      let reqId: string
      try {
        reqId = (await acceptImport(pglite ?? tdb!.db, {
          companyId: plainCompany,
          operation: 'import',
          body: Buffer.from('__action__;loginEmail;password\ncreate;cancel-me@cli.example.com;Cl1-user!pass\n'),
          label: null,
          noemails: true,
          nostrict: false,
          requester: { id: admins.company_admin!.userId, displayName: 'CLI admin', jid: `${admins.company_admin!.userId}@localhost` },
          // The job under test, not the deletion safeguard of the route (MAX_DELETE_PERCENT=100 is off).
          caller: { id: admins.company_admin!.userId, rank: 1 },
          maxDeletePercent: 100,
        })).reqId
      } finally {
        await pglite?.close()
      }
      const r = await run('cancel-import', '--req-id', reqId)
      const res = ok(r)
      expect(res).toMatchObject({ reqId, status: 'Cancelled', errorMsg: expect.stringMatching(/cancelled by the operator/), counters: { succeeded: 0, failed: 1, warnings: 0, total: 1 } })
      expect(r.stdout).not.toContain('Cl1-user!pass')
      refused(await run('cancel-import', '--req-id', reqId), new RegExp(`import ${reqId} has already ended \\(Cancelled\\); there is nothing to cancel`))
      refused(await run('cancel-import', '--req-id', 'f'.repeat(64)), /no import with reqId f{64}/)
    }, 60_000)

    it('create-api-key shows a key once; list-api-keys never shows it; revoke-api-key ends it (once)', async () => {
      const userId = admins.company_admin!.userId
      const created = ok(await run('create-api-key', '--user', userId)) as { keyId: string, userId: string, apiKey: string }
      expect(Object.keys(created).sort()).toEqual(['apiKey', 'keyId', 'userId'])
      expect(created.keyId).toMatch(ID)
      expect(created.apiKey.length).toBeGreaterThanOrEqual(40)
      const listed = await run('list-api-keys', '--user', userId)
      expect(ok(listed)).toEqual({ userId, keys: [{ keyId: created.keyId, createdAt: expect.any(String), revokedAt: null }] })
      expect(listed.stdout).not.toContain(created.apiKey)
      expect(ok(await run('revoke-api-key', '--key-id', created.keyId))).toEqual({ keyId: created.keyId, revoked: true })
      refused(await run('revoke-api-key', '--key-id', created.keyId), /no active API key/)
      refused(await run('create-api-key', '--user', 'f'.repeat(24)), /no live user/)
      refused(await run('create-api-key', '--user', 'nope'), /--user must be a 24-character hexadecimal id/)
    }, 60_000)

    it('what the CLI wrote works for the server: admin login with the app credentials, numbers loaded once', async () => {
      // The embedded leg opens the CLI's data directory in-process, after the last CLI run (one process per directory).
      const pglite = kind === 'pglite' ? await openPglite(join(dataDir, 'pgdata')) : undefined
      const db: Db = pglite ?? tdb!.db
      const kept = (name: string) => readFileSync(join(dataDir, name), 'utf8').trim()
      const server = await buildTestApp(db, {
        JWT_SECRET: kind === 'pglite' ? kept('jwt-secret') : CLI_JWT_SECRET,
        SECRETS_KEY: kind === 'pglite' ? kept('secrets-key') : CLI_SECRETS_KEY,
      })
      try {
        const { email } = admins.company_admin!
        const basic = `Basic ${Buffer.from(`${email}:${PASSWORD}`).toString('base64')}`
        const appAuth = (secret: string) => `Basic ${Buffer.from(`${app.appId}:${createHash('sha256').update(secret + PASSWORD).digest('hex')}`).toString('base64')}`

        const withApp = await server.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic, 'x-rainbow-app-auth': appAuth(app.appSecret) } })
        expect(withApp.statusCode, withApp.body).toBe(200)
        expect(withApp.json().loggedInApplication).toEqual({ id: app.appId })
        const withKey = await server.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic, apikey: app.apiToken } })
        expect(withKey.statusCode, withKey.body).toBe(200)
        expect(withKey.json().loggedInApplication).toEqual({ id: app.appId })
        const wrongSecret = await server.inject({ method: 'GET', url: LOGIN, headers: { authorization: basic, 'x-rainbow-app-auth': appAuth(app.apiToken) } })
        expect(wrongSecret.statusCode).toBe(403)

        const numbers = await db.query<{ shortNumber: string, internalNumber: string | null, number: string | null }>(
          `SELECT n.short_number AS "shortNumber", n.internal_number AS "internalNumber", n.number
             FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id WHERE s.pbx_id = $1 ORDER BY n.short_number`, ['CLI-PBX-1'])
        // The refused file's good line (2005) was not loaded: the whole file is one transaction.
        expect(numbers).toEqual([
          { shortNumber: '2001', internalNumber: '+33900002001', number: '+33123459001' },
          { shortNumber: '2002', internalNumber: null, number: '+33123459002' },
          { shortNumber: '2003', internalNumber: '2003', number: null },
          { shortNumber: '2004', internalNumber: null, number: '+33123459004' },
        ])
        // The refused create-admin runs left no user behind.
        const refusedUsers = await db.query('SELECT 1 FROM users WHERE login_email = $1', ['refused@cli.example.com'])
        expect(refusedUsers).toEqual([])
      } finally {
        await server.close()
        await pglite?.close()
      }
    })
  })
})
