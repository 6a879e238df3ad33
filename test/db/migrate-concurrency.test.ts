import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { loadMigrations, migrate } from '../../src/db/migrate.js'
import { databaseUrl, dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'

const ROOT = new URL('../../', import.meta.url).pathname
const kinds = dbKinds()

interface Run { child: ChildProcess, done: Promise<{ code: number | null, stdout: string, stderr: string }> }

function massprovMigrate (url: string): Run {
  const env = { ...process.env, DATABASE_URL: url, JWT_SECRET: 'migrate-test-secret-migrate-test-secret-0123', SECRETS_KEY: 'migrate-test-secrets-key-migrate-test-0123', DATA_DIR: '', REDIS_URL: '', LOG_LEVEL: 'warn' }
  const child = spawn(process.execPath, ['bin/massprov.js', 'migrate'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) }
}

async function until (what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

if (kinds.includes('postgres')) {
  describe('massprov migrate: two processes at once on an empty PostgreSQL database', () => {
    const name = `massprov_mig_${randomBytes(6).toString('hex')}`
    const url = () => databaseUrl(name)
    const runs: Run[] = []

    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await admin.connect()
      await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end())
    })
    afterAll(async () => {
      for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
      await Promise.all(runs.map((r) => r.done))
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end())
    })

    it('both exit 0, each migration is applied once, by one of them', async () => {
      // Hold the migration lock (the key src/db/postgres.ts derives from 'massprov:migrate') until both
      // processes wait on it, so they are released together instead of merely starting together.
      const key = createHash('sha256').update('massprov:migrate').digest().readBigInt64BE(0).toString()
      const holder = new pg.Client({ connectionString: url() })
      await holder.connect()
      try {
        await holder.query('SELECT pg_advisory_lock($1::bigint)', [key])
        runs.push(massprovMigrate(url()), massprovMigrate(url()))
        await until('both migrate processes waiting on the advisory lock', 30_000, async () => {
          const exited = runs.find((r) => r.child.exitCode !== null)
          if (exited) throw new Error(`a migrate process exited before taking the lock: ${(await exited.done).stderr}`)
          const { rows } = await holder.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1",
            [name])
          return rows[0]!.n === 2
        })
      } finally {
        await holder.end()
      }
      const [a, b] = await Promise.all(runs.map((r) => r.done))
      expect(a!.code, a!.stderr).toBe(0)
      expect(b!.code, b!.stderr).toBe(0)

      const all = (await loadMigrations()).map((m) => m.name)
      expect(all.length).toBeGreaterThan(0)
      const applied = [a!, b!].flatMap((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied)
      expect(applied.sort()).toEqual([...all].sort())

      const check = new pg.Client({ connectionString: url() })
      await check.connect()
      try {
        const { rows } = await check.query<{ version: number, n: number }>('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version')
        expect(rows).toEqual((await loadMigrations()).map((m) => ({ version: m.version, n: 1 })))
        const users = await check.query<{ t: string | null }>("SELECT to_regclass('public.users')::text AS t")
        expect(users.rows[0]!.t).toBe('users')
      } finally {
        await check.end()
      }
    }, 60_000)

    it('a third run has nothing left to apply', async () => {
      const run = massprovMigrate(url())
      runs.push(run)
      const r = await run.done
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({ applied: [] })
    }, 30_000)
  })
}

describe.each(kinds)('migrate() on %s: a failing migration', (kind) => {
  let tdb: TestDb
  const dir = mkdtempSync(join(tmpdir(), 'massprov-migrations-'))
  const dirUrl = pathToFileURL(`${dir}/`)

  beforeAll(async () => {
    tdb = await openTestDb(kind)
  })
  afterAll(async () => {
    await tdb?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const tableExists = async (t: string) =>
    (await tdb.db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`public.${t}`]))[0]!.t !== null
  const recorded = async () =>
    (await tdb.db.query<{ version: number }>('SELECT version FROM schema_migrations WHERE version >= 9900 ORDER BY version')).map((r) => r.version)

  it('rolls back entirely and is not recorded; the migrations before it stay applied', async () => {
    writeFileSync(join(dir, '9901_mig-test-a.sql'), '-- a good one\nCREATE TABLE mig_test_a (id int PRIMARY KEY);\n')
    // The first two statements succeed; the third fails.
    writeFileSync(join(dir, '9902_mig-test-b.sql'), 'CREATE TABLE mig_test_b (id int PRIMARY KEY);\nINSERT INTO mig_test_b VALUES (1);\nSELECT * FROM mig_test_missing;\n')
    await expect(migrate(tdb.db, await loadMigrations(dirUrl))).rejects.toThrow(/Migration 9902_mig-test-b\.sql failed: .*mig_test_missing/)
    expect(await tableExists('mig_test_a')).toBe(true)
    expect(await tableExists('mig_test_b')).toBe(false)
    expect(await recorded()).toEqual([9901])
    // The session is usable again (no transaction left aborted).
    expect(await tdb.db.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
  })

  it('applies it once, fixed, on the next run; the run after applies nothing', async () => {
    writeFileSync(join(dir, '9902_mig-test-b.sql'), 'CREATE TABLE mig_test_b (id int PRIMARY KEY);\nINSERT INTO mig_test_b VALUES (1);\n')
    expect(await migrate(tdb.db, await loadMigrations(dirUrl))).toEqual(['9902_mig-test-b.sql'])
    expect(await tdb.db.query('SELECT id FROM mig_test_b')).toEqual([{ id: 1 }])
    expect(await recorded()).toEqual([9901, 9902])
    expect(await migrate(tdb.db, await loadMigrations(dirUrl))).toEqual([])
  })

  it('records a migration in the same transaction as its statements', async () => {
    // A file whose statements all succeed but whose recording then fails (it took its own version):
    // the table it created must go too.
    writeFileSync(join(dir, '9903_mig-test-c.sql'), "CREATE TABLE mig_test_c (id int);\nINSERT INTO schema_migrations (version, name) VALUES (9903, 'squatter');\n")
    await expect(migrate(tdb.db, await loadMigrations(dirUrl))).rejects.toThrow(/Migration 9903_mig-test-c\.sql failed/)
    expect(await tableExists('mig_test_c')).toBe(false)
    expect(await recorded()).toEqual([9901, 9902])
  })
})
