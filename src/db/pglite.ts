import { PGlite, type Transaction } from '@electric-sql/pglite'
import { DbError, type Db, type Queryable } from './db.js'

const INT8 = 20
const NUMERIC = 1700
const parsers = { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) }

function wrap (conn: PGlite | Transaction): Queryable {
  return {
    kind: 'pglite',
    async query<R> (sql: string, params?: readonly unknown[]) {
      try {
        const res = await conn.query<R>(sql, params as unknown[] | undefined)
        return res.rows
      } catch (err) {
        throw new DbError(err, sql)
      }
    },
    async exec (sql: string) {
      try {
        await conn.exec(sql)
      } catch (err) {
        throw new DbError(err, sql)
      }
    },
  }
}

/** dataDir undefined = in memory (tests). */
export async function openPglite (dataDir?: string, loadDataDir?: Blob): Promise<Db & { pglite: PGlite }> {
  const pglite = await PGlite.create({ dataDir, parsers, loadDataDir })
  const base = wrap(pglite)
  return {
    kind: 'pglite',
    pglite,
    query: base.query,
    exec: base.exec,
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    // One process per data directory (the lock file) and one connection: nothing to exclude.
    exclusive: (_key, fn) => fn(base),
    ping: async () => { await pglite.query('SELECT 1') },
    close: () => pglite.close(),
  }
}
