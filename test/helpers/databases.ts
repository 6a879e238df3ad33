import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import pino from 'pino'
import { inject } from 'vitest'
import type { Db, Queryable } from '../../src/db/db.js'
import { openPglite } from '../../src/db/pglite.js'
import { openPostgres } from '../../src/db/postgres.js'
import { reachedLeg } from './legs.js'

// Its own name per checkout when several test runs share one PostgreSQL (parallel work trees).
export const TEMPLATE_DB = process.env.TEST_TEMPLATE_DB ?? 'massprov_test_template'
export type DbKind = 'pglite' | 'postgres'

/** In CI the PostgreSQL leg is not optional: a missing DATABASE_URL fails the run instead of skipping it. */
export function requirePostgresInCi (): void {
  if (process.env.CI === 'true' && !process.env.DATABASE_URL) {
    throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL leg of the tests would be skipped')
  }
}

/** Every suite that touches the database runs once per kind: PGlite always, PostgreSQL when DATABASE_URL is set. */
export function dbKinds (): DbKind[] {
  requirePostgresInCi()
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
}

export function databaseUrl (database: string): string {
  const u = new URL(process.env.DATABASE_URL!)
  u.pathname = `/${database}`
  return u.toString()
}

export interface TestDb { db: Db, url: string | null, close: () => Promise<void> }

/** A migrated database of its own: PGlite loaded from the run's dump, or a clone of the PostgreSQL template. */
export async function openTestDb (kind: DbKind): Promise<TestDb> {
  if (kind === 'pglite') {
    const dump = new Blob([readFileSync(inject('pgliteDump'))])
    const db = await openPglite(undefined, dump)
    return { db, url: null, close: () => db.close() }
  }
  const name = `massprov_t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`)
  } finally {
    await admin.end()
  }
  const url = databaseUrl(name)
  const db = openPostgres(url, { poolSize: 5, logger: pino({ level: 'silent' }) })
  reachedLeg('postgres')
  return {
    db,
    url,
    close: async () => {
      await db.close()
      const drop = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await drop.connect()
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => drop.end())
    },
  }
}

/**
 * The same database with every statement, direct or inside a transaction, handed to `around` with
 * the function that runs it: to count statements or to make some fail.
 */
export function intercepting (db: Db, around: (sql: string, run: () => Promise<unknown[]>) => Promise<unknown[]>): Db {
  const wrap = (q: Queryable): Queryable => ({
    kind: q.kind,
    query: <R>(sql: string, params?: readonly unknown[]) => around(sql, () => q.query(sql, params)) as Promise<R[]>,
    exec: (sql) => q.exec(sql),
  })
  return { ...db, ...wrap(db), transaction: (fn) => db.transaction((tx) => fn(wrap(tx))), exclusive: db.exclusive, ping: db.ping, close: db.close }
}

/** The same database, recording every statement run through it, in transactions too (which reads a path took). */
export function recordingDb (db: Db): { db: Db, statements: string[] } {
  const statements: string[] = []
  const recording = <Q extends Queryable>(q: Q): Q => new Proxy(q, {
    get: (target, key, receiver) => {
      if (key === 'query') return (sql: string, params?: readonly unknown[]) => { statements.push(sql); return target.query(sql, params) }
      if (key === 'transaction') return <T>(fn: (tx: Queryable) => Promise<T>) => (target as unknown as Db).transaction((tx) => fn(recording(tx)))
      return Reflect.get(target, key, receiver) as unknown
    },
  })
  return { db: recording(db), statements }
}
