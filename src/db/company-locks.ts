import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Logger } from 'pino'
import type { Queryable } from './db.js'

/** The first key of every company lock (two-int advisory locks), so they cannot meet other locks. */
const NAMESPACE = 0x4d50

/** A held company lock: `lost` aborts when its session dies (the lock is then free for others). */
export interface CompanyLease {
  readonly pid: number
  readonly lost: AbortSignal
  release: () => Promise<void>
}

export interface CompanyLocks {
  /** The company's lock on a session of its own, or undefined when another session holds it. */
  tryAcquire: (companyId: string) => Promise<CompanyLease | undefined>
}

function keyOf (companyId: string): { signed: number, unsigned: number } {
  const digest = createHash('sha256').update(companyId).digest()
  return { signed: digest.readInt32BE(0), unsigned: digest.readUInt32BE(0) }
}

/**
 * "One import per company at a time" across every worker process: a session-level advisory lock per
 * company, each on its own connection held for the whole import. A session that dies (worker killed,
 * backend terminated) frees its lock at once, and the TCP keepalives below bound how long a vanished
 * host keeps it.
 */
export function createCompanyLocks (url: string, logger: Logger): CompanyLocks {
  return {
    async tryAcquire (companyId) {
      const client = new pg.Client({ connectionString: url, application_name: 'massprov-company-lock', keepAlive: true })
      const lost = new AbortController()
      client.on('error', (err) => {
        logger.warn({ err: err.message, companyId }, 'company lock session lost')
        lost.abort(new Error('the company lock session was lost'))
      })
      client.on('end', () => lost.abort(new Error('the company lock session ended')))
      try {
        await client.connect()
        await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3')
        const rows = (await client.query<{ ok: boolean, pid: number }>(
          'SELECT pg_try_advisory_lock($1::int, $2::int) AS ok, pg_backend_pid() AS pid', [NAMESPACE, keyOf(companyId).signed])).rows
        if (!rows[0]?.ok) {
          await client.end()
          return undefined
        }
        return {
          pid: rows[0].pid,
          lost: lost.signal,
          // Ending the session releases the lock; no unlock statement that could fail on its own.
          release: async () => { await client.end().catch(() => {}) },
        }
      } catch (err) {
        // The connect or lock error is rethrown; ending a session that never opened may fail too.
        await client.end().catch(() => {})
        throw err
      }
    },
  }
}

/**
 * True while the session `pid` still holds the company's lock: checked inside each chunk's
 * transaction, so no chunk commits after its worker lost the company to another one.
 */
export async function companyLockHeld (q: Queryable, companyId: string, pid: number): Promise<boolean> {
  const rows = await q.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1
        AND classid::bigint = $2 AND objid::bigint = $3 AND objsubid = 2) AS held`, [pid, NAMESPACE, keyOf(companyId).unsigned])
  return rows[0]?.held === true
}
