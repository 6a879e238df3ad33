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

/**
 * One keyset page of a large read, along the index its ORDER BY names. Without statistics (a freshly
 * loaded table; PGlite never analyses) the planner expects a few rows, so it reads every row the
 * WHERE matches and sorts them, for each page: 75 ms a page of 10,000 at 100,000 rows, against 12 ms
 * along the index. In a transaction of its own, so the settings end with it.
 */
export async function pageAlongIndex<R> (db: Db, read: (q: Queryable) => Promise<R>): Promise<R> {
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off')
    return read(tx)
  })
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

/**
 * What of a failure may go to the log: message, SQLSTATE and stack, without the driver's `detail`
 * and `where`, which can quote the failing row (a password hash among its values).
 */
export function loggableError (err: unknown): { message: string, code?: string, stack?: string } {
  const e = err as { message?: unknown, code?: unknown, stack?: unknown }
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  }
}

/** Socket-level failures of the driver, which carry no SQLSTATE. */
const CONNECTION_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN'])

/**
 * A failure that says nothing about the statement and may pass if it runs again: connection lost
 * (08xxx, or a socket error), serialization failure (40001), deadlock (40P01), the server shutting
 * down or cancelling (57P0x).
 */
export function isTransientDbError (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown, cause?: unknown }
  const code = typeof e?.code === 'string' ? e.code : undefined
  if (code) return code.startsWith('08') || code === '40001' || code === '40P01' || /^57P0\d$/.test(code) || CONNECTION_ERRNOS.has(code)
  if (typeof e?.message === 'string' && /Connection terminated|connection (?:is )?closed|Client has encountered a connection error/i.test(e.message)) return true
  return e?.cause !== undefined && e.cause !== err && isTransientDbError(e.cause)
}
