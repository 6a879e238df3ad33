import { z } from 'zod'
import { isSafeText } from '../../util/safe-text.js'

export const Flag = z.enum(['true', 'false']).transform((v) => v === 'true')

export const OneChar = z.string().min(1).max(2).describe('One character (TAB may be sent as \\t)')
  .transform((v) => v === '\\t' ? '\t' : v).refine((v) => v.length === 1 && isSafeText(v), 'must be one character (not NUL)')

export const CommandIdSchema = z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits, . _ : - only')
