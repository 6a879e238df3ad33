import { z } from 'zod'
import { DEFAULT_LIMITS } from '../../csv/types.js'
import { isSafeText } from '../../util/safe-text.js'

export const Flag = z.enum(['true', 'false']).transform((v) => v === 'true')

export const OneChar = z.string().min(1).max(2).describe('One character (TAB may be sent as \\t)')
  .transform((v) => v === '\\t' ? '\t' : v).refine((v) => v.length === 1 && isSafeText(v), 'must be one character (not NUL)')

export const CommandIdSchema = z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits, . _ : - only')

/** Digits only: a coerced number would read "" as 0 and "1e2" as 100, confirming a count nobody typed. */
export const ConfirmDeletes = z.string().regex(/^\d{1,7}$/, 'must be a whole number of deletions (digits only)')
  .transform(Number).refine((n) => n <= DEFAULT_LIMITS.maxRows, `must be at most ${DEFAULT_LIMITS.maxRows} (the most lines a file may have)`)
  .describe('Deletion safeguard: the number of users this file deletes, required (exactly) when it is more than MAX_DELETE_PERCENT % of the company\'s users; otherwise ignored. A check answer gives it as data.deletionSafeguard.deletions')
