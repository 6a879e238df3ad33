import { createHash } from 'node:crypto'

export interface LoginBackoffOptions {
  /** Failed sign-ins of one login before it is held back. */
  maxFailures: number
  /** A login's failures are forgotten once this long passes without a new one (and no hold is running). */
  windowMs: number
  /** First hold; every further failure doubles it, up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** Logins remembered at once; beyond, the one whose last failure is oldest is forgotten. */
  maxTracked?: number
  now?: () => number
}

interface Entry { failures: number, lastAt: number, until: number }

/**
 * Per-login backoff of failed sign-ins, in this process's memory. Keyed by the normalised login
 * whether or not such an account exists, so a hold says nothing about existence. An attempt counts
 * as a failure from the moment it is admitted (a burst of parallel guesses cannot all slip in
 * before the first one fails); a successful sign-in forgets the login.
 */
export const createLoginBackoff = (opts: LoginBackoffOptions) => {
  const now = opts.now ?? Date.now
  const maxTracked = opts.maxTracked ?? 50_000
  const entries = new Map<string, Entry>()

  // Hashed: bounded key size whatever the client sends, and no e-mail addresses kept in memory.
  const keyOf = (login: string) => createHash('sha256').update(login.trim().toLowerCase()).digest('base64url')

  function live (key: string, at: number): Entry | undefined {
    const entry = entries.get(key)
    if (entry && entry.until <= at && at - entry.lastAt >= opts.windowMs) {
      entries.delete(key)
      return undefined
    }
    return entry
  }

  return {
    /** 0 when the attempt may go on (it is then counted as failed until `succeeded`), else the milliseconds left on the hold. */
    admit (login: string): number {
      const at = now()
      const key = keyOf(login)
      const entry = live(key, at) ?? { failures: 0, lastAt: at, until: 0 }
      if (entry.until > at) return entry.until - at
      entry.failures++
      entry.lastAt = at
      if (entry.failures >= opts.maxFailures) {
        entry.until = at + Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (entry.failures - opts.maxFailures))
      }
      // Re-inserted so the map's order is the order of last failures: the first key is the one to drop.
      entries.delete(key)
      entries.set(key, entry)
      if (entries.size > maxTracked) {
        const oldest = entries.keys().next().value
        if (oldest !== undefined) entries.delete(oldest)
      }
      return 0
    },

    succeeded (login: string): void {
      entries.delete(keyOf(login))
    },

    get tracked (): number {
      return entries.size
    },
  }
}

export type LoginBackoff = ReturnType<typeof createLoginBackoff>
