import pg from 'pg'
import type { Logger } from 'pino'
import { createHash } from 'node:crypto'
import { DbError, type Db, type Queryable } from './db.js'

const INT8 = 20
const NUMERIC = 1700
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

function wrap (client: pg.Pool | pg.PoolClient): Queryable {
  return {
    kind: 'postgres',
    async query<R> (sql: string, params?: readonly unknown[]) {
      try {
        const res = await client.query(sql, params as unknown[] | undefined)
        return res.rows as R[]
      } catch (err) {
        throw new DbError(err, sql)
      }
    },
    async exec (sql: string) {
      try {
        await client.query(sql)
      } catch (err) {
        throw new DbError(err, sql)
      }
    },
  }
}

function lockKey (key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString()
}

export function openPostgres (url: string, opts: { poolSize: number, logger: Logger }): Db {
  // A database that does not answer fails a request in seconds (503) instead of holding it forever.
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize, types, connectionTimeoutMillis: 5000 })
  // Without a listener an idle client's backend dying (restart, pg_terminate_backend) crashes the process.
  pool.on('error', (err) => opts.logger.warn({ err }, 'idle PostgreSQL connection lost'))
  // The pool listens only to idle clients: a backend terminated while its client is checked out
  // (between two statements of a transaction) would otherwise be an uncaught 'error' event. The
  // next statement fails instead, and the pool drops the client on release.
  pool.on('connect', (client) => client.on('error', (err) => opts.logger.warn({ err: err.message }, 'PostgreSQL connection lost while in use')))
  const base = wrap(pool)

  async function onClient<T> (fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    let broken = false
    try {
      return await fn(client)
    } catch (err) {
      broken = isConnectionError(err)
      throw err
    } finally {
      client.release(broken)
    }
  }

  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => onClient(async (client) => {
      await client.query('BEGIN')
      try {
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        // The original error is what matters; a ROLLBACK on a broken connection fails too.
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    }),
    exclusive: (key, fn) => onClient(async (client) => {
      const k = lockKey(key)
      await client.query('SELECT pg_advisory_lock($1::bigint)', [k])
      try {
        return await fn(wrap(client))
      } finally {
        // A session-level lock also ends with its session, which a failed unlock means is broken.
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [k]).catch(() => {})
      }
    }),
    ping: async () => { await pool.query('SELECT 1') },
    close: () => pool.end(),
  }
}

function isConnectionError (err: unknown): boolean {
  const code = (err as { code?: string }).code ?? ''
  return code.startsWith('08') || code === '57P01' || code === 'ECONNRESET' || code === 'EPIPE'
}
