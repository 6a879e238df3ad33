import { readdir, readFile } from 'node:fs/promises'
import type { Db } from './db.js'

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url)
const FILE_PATTERN = /^(\d{4})_[\w-]+\.sql$/

export interface Migration { version: number, name: string, sql: string }

export async function loadMigrations (dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE_PATTERN.test(f)).sort()
  const migrations: Migration[] = []
  for (const name of files) {
    const version = Number(FILE_PATTERN.exec(name)?.[1])
    if (migrations.some((m) => m.version === version)) throw new Error(`Two migrations numbered ${version}`)
    migrations.push({ version, name, sql: await readFile(new URL(name, dir), 'utf8') })
  }
  return migrations
}

/**
 * Applies the pending migrations, each in its own transaction, recorded in schema_migrations.
 * The advisory lock makes two processes starting at once take turns; the second then finds
 * nothing left to do.
 */
export async function migrate (db: Db, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? await loadMigrations()
  return db.exclusive('massprov:migrate', async (session) => {
    await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((await session.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version))
    const applied: string[] = []
    for (const m of all) {
      if (done.has(m.version)) continue
      await session.exec('BEGIN')
      try {
        await session.exec(m.sql)
        await session.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
        await session.exec('COMMIT')
      } catch (err) {
        // The migration's own error is rethrown; a ROLLBACK failing too adds nothing.
        await session.exec('ROLLBACK').catch(() => {})
        throw new Error(`Migration ${m.name} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(m.name)
    }
    return applied
  })
}
