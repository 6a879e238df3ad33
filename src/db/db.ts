/**
 * src/db: the Db interface (this file) over PostgreSQL (postgres.ts) and embedded PGlite
 * (pglite.ts), the migration runner (migrate.ts, over migrations/), and one repository file per
 * table group with raw, parameterised SQL. It is the floor: it imports only itself, src/util and
 * packages, types included (dependency-cruiser rule db-is-the-floor; move a shared type down here
 * rather than import it). Any room may import it.
 */
/** What repositories need from a database: the same surface over pg and PGlite. */
export interface Queryable {
  readonly kind: 'pglite' | 'postgres'
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Db extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Runs fn on one session while holding a cluster-wide lock named by key (migrations, seeding),
   * so two processes starting at once serialise. PGlite has one process per data directory already.
   */
  exclusive<T>(key: string, fn: (session: Queryable) => Promise<T>): Promise<T>
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * A large result of JSON-safe columns (text, numbers, booleans, arrays, jsonb; no timestamps), in the
 * order of the statement. PGlite converts every column of every row on the event loop: one json_agg
 * text read with JSON.parse is 2–3 times faster there for a thousand rows. pg reads rows faster than
 * PostgreSQL builds that JSON, so there the statement runs as it is.
 */
export async function manyRows<R> (q: Queryable, sql: string, params?: readonly unknown[]): Promise<R[]> {
  if (q.kind !== 'pglite') return q.query<R>(sql, params)
  const [row] = await q.query<{ j: string }>(`SELECT coalesce(json_agg(x), '[]')::text AS j FROM (${sql}) x`, params)
  return JSON.parse(row!.j) as R[]
}

/** Wraps a driver error with the failing statement's first words, keeping the SQLSTATE code. */
export class DbError extends Error {
  readonly code: string | undefined
  constructor (cause: unknown, sql: string) {
    const err = cause as { message?: string, code?: string }
    super(`${err.message ?? String(cause)} [in: ${sql.replace(/\s+/g, ' ').trim().slice(0, 80)}]`, { cause })
    this.name = 'DbError'
    this.code = err.code
  }
}

export function isUniqueViolation (err: unknown): boolean {
  return (err as { code?: string }).code === '23505'
}
