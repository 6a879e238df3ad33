import { randomBytes } from 'node:crypto'
import pg from 'pg'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/db.js'
import { nextUnappliedLines, reportPage } from '../../src/db/imports-repository.js'
import { loadMigrations, migrate } from '../../src/db/migrate.js'
import { openPglite } from '../../src/db/pglite.js'
import { openPostgres } from '../../src/db/postgres.js'
import { databaseUrl, dbKinds } from '../helpers/databases.js'

// An upgrade must not lose or redo anything: the results of lines applied before migration 0004 move
// to import_line_results, and a line not yet applied is still due afterwards.

const C = 'c'.repeat(24)
const U = 'u'.repeat(24)
const R = 'a'.repeat(64)

async function emptyDb (kind: 'pglite' | 'postgres', cleanups: Array<() => Promise<void>>): Promise<Db> {
  if (kind === 'pglite') {
    const db = await openPglite()
    cleanups.push(() => db.close())
    return db
  }
  const name = `massprov_m4_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const db = openPostgres(databaseUrl(name), { poolSize: 2, logger: pino({ level: 'silent' }) })
  cleanups.push(async () => {
    await db.close()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return db
}

describe.each(dbKinds())('migration 0004 (line results in their own table) on %s', (kind) => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it('moves the results of applied lines and leaves the unapplied line due', async () => {
    const db = await emptyDb(kind, cleanups)
    const all = await loadMigrations()
    await migrate(db, all.filter((m) => m.version < 4))
    await db.query('INSERT INTO companies (id, name) VALUES ($1, \'C\')', [C])
    await db.query('INSERT INTO users (id, company_id, login_email, jid_im) VALUES ($1, $2, \'x@example.com\', \'x@localhost\')', [U, C])
    await db.query(
      `INSERT INTO imports (req_id, company_id, operation, mode, options, requester_id, total, processed, succeeded, failed)
       VALUES ($1, $2, 'import', 'user', '{}', $3, 3, 2, 1, 1)`, [R, C, U])
    await db.query(
      `INSERT INTO import_lines (req_id, seq, line_number, action, login_email, input, line, status, user_id, error_code, error_msg, applied_at) VALUES
        ($1, 0, 2, 'create', 'x@example.com', '{"valid":true,"values":{}}', 'create;x@example.com', 'success', $2, NULL, NULL, now()),
        ($1, 1, 3, 'create', 'y', '{"valid":false}', 'create;y', 'failed', NULL, 3010, 'loginEmail: must be an e-mail address', now()),
        ($1, 2, 4, 'create', 'z@example.com', '{"valid":true,"values":{"firstName":"Z"}}', 'create;z@example.com', NULL, NULL, NULL, NULL, NULL)`, [R, U])

    expect(await migrate(db, all)).toEqual(all.filter((m) => m.version >= 4).map((m) => m.name))

    const report = await reportPage(db, R, -1, 10)
    expect(report.map((l) => ({ seq: l.seq, status: l.status, userId: l.userId?.trim() ?? null, errorCode: l.errorCode, line: l.line }))).toEqual([
      { seq: 0, status: 'success', userId: U, errorCode: null, line: null },
      { seq: 1, status: 'failed', userId: null, errorCode: 3010, line: 'create;y' },
      { seq: 2, status: null, userId: null, errorCode: null, line: null },
    ])
    expect((await nextUnappliedLines(db, R, 10, -1, 2)).map((l) => l.seq)).toEqual([2])
  })
})
