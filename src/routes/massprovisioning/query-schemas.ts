import { z } from 'zod'

export const Flag = z.enum(['true', 'false']).transform((v) => v === 'true')

export const OneChar = z.string().min(1).max(2).describe('One character (TAB may be sent as \\t)')
  .transform((v) => v === '\\t' ? '\t' : v).refine((v) => v.length === 1, 'must be one character')

export const CommandIdSchema = z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits, . _ : - only')
