import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Db } from './db/db.js'
import { lockDataDir } from './db/data-dir-lock.js'
import { migrate } from './db/migrate.js'
import { openPglite } from './db/pglite.js'
import { openPostgres } from './db/postgres.js'

export interface Runtime {
  db: Db
  jwtSecret: string
  dataDir: string | null
  /** The migrations this opening applied (the `migrate` command reports them). */
  migrationsApplied: string[]
  close: () => Promise<void>
}

/**
 * Opens the database the configuration selects: PostgreSQL with DATABASE_URL, else PGlite in
 * DATA_DIR (locked to this process, with a JWT secret generated once and kept beside it).
 */
export async function openRuntime (config: Config, logger: Logger, opts: { migrate: boolean }): Promise<Runtime> {
  if (config.DATABASE_URL) {
    const db = openPostgres(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, logger })
    let migrationsApplied: string[] = []
    try {
      if (opts.migrate) migrationsApplied = await runMigrations(db, logger)
    } catch (err) {
      await db.close()
      throw err
    }
    return { db, jwtSecret: config.JWT_SECRET!, dataDir: null, migrationsApplied, close: () => db.close() }
  }

  const dataDir = resolve(config.DATA_DIR)
  const release = lockDataDir(dataDir)
  try {
    const jwtSecret = config.JWT_SECRET ?? readOrCreateSecret(join(dataDir, 'jwt-secret'))
    const db = await openPglite(join(dataDir, 'pgdata'))
    let migrationsApplied: string[]
    try {
      // The embedded database has no separate deployment step: it is always brought up to date.
      migrationsApplied = await runMigrations(db, logger)
    } catch (err) {
      await db.close()
      throw err
    }
    return {
      db,
      jwtSecret,
      dataDir,
      migrationsApplied,
      close: async () => {
        try { await db.close() } finally { release() }
      },
    }
  } catch (err) {
    release()
    throw err
  }
}

async function runMigrations (db: Db, logger: Logger): Promise<string[]> {
  const applied = await migrate(db)
  if (applied.length > 0) logger.info({ applied }, 'migrations applied')
  return applied
}

function readOrCreateSecret (file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(resolve(file, '..'), { recursive: true })
  const secret = randomBytes(48).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return secret
}
