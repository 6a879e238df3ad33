import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { migrate } from '../../src/db/migrate.js'
import { openPglite } from '../../src/db/pglite.js'
import { TEMPLATE_DB, requirePostgresInCi } from './databases.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteDump: string
  }
}

/**
 * Migrates once for the whole run: a PGlite data directory dumped to a tarball (a fresh PGlite costs
 * ~4.5 s, loading the dump ~0.5 s) and, with DATABASE_URL, a PostgreSQL template database that
 * each test file clones.
 */
export default async function setup (project: TestProject) {
  requirePostgresInCi()
  const dir = mkdtempSync(join(tmpdir(), 'massprov-test-'))
  const db = await openPglite()
  await migrate(db)
  const dump = await db.pglite.dumpDataDir('none')
  await db.close()
  const file = join(dir, 'pglite.tar')
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()))
  project.provide('pgliteDump', file)

  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`)
    await admin.end()
    const { openPostgres } = await import('../../src/db/postgres.js')
    const { default: pino } = await import('pino')
    const template = openPostgres(withDatabase(process.env.DATABASE_URL, TEMPLATE_DB), { poolSize: 2, logger: pino({ level: 'silent' }) })
    await migrate(template)
    await template.close()
  }

  return () => rmSync(dir, { recursive: true, force: true })
}

export function withDatabase (url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}
