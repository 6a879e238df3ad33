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
import { deriveSecretsKey } from './services/app-credentials.js'
import { rekeySecrets } from './services/secrets-key.js'

export interface Runtime {
  db: Db
  jwtSecret: string
  /** SECRETS_KEY: configured, or generated once and kept in DATA_DIR in embedded mode. */
  secretsKey: string
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
    return { db, jwtSecret: config.JWT_SECRET!, secretsKey: config.SECRETS_KEY!, dataDir: null, migrationsApplied, close: () => db.close() }
  }

  const dataDir = resolve(config.DATA_DIR)
  const release = lockDataDir(dataDir)
  try {
    const jwtSecret = config.JWT_SECRET ?? readOrCreateSecret(join(dataDir, 'jwt-secret'))
    const keyFile = join(dataDir, 'secrets-key')
    const generatedKey = config.SECRETS_KEY === undefined && !existsSync(keyFile)
    const secretsKey = config.SECRETS_KEY ?? readOrCreateSecret(keyFile)
    const db = await openPglite(join(dataDir, 'pgdata'))
    let migrationsApplied: string[]
    try {
      // The embedded database has no separate deployment step: it is always brought up to date.
      migrationsApplied = await runMigrations(db, logger)
      // A data directory from before SECRETS_KEY kept its application secrets under a key derived
      // from JWT_SECRET: the key generated for it takes them over once, here.
      if (generatedKey) {
        const moved = await rekeySecrets(db, deriveSecretsKey(jwtSecret), deriveSecretsKey(secretsKey))
        if (moved.reencrypted > 0) logger.warn({ reencrypted: moved.reencrypted }, 'application secrets re-encrypted under the generated secrets-key')
      }
    } catch (err) {
      await db.close()
      throw err
    }
    return {
      db,
      jwtSecret,
      secretsKey,
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
