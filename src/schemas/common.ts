/**
 * src/schemas: zod schemas shared by several routes (ids, paging, the admin views), which also feed
 * the OpenAPI document. A schema used by one route stays in that route's file. It imports only
 * util; routes import it.
 */
import { z } from 'zod'
import { ID_PATTERN } from '../util/ids.js'
import { isSafeText } from '../util/safe-text.js'

/**
 * Free text from a path or query: no NUL and no unpaired surrogate, refused here (400) because the
 * database cannot hold them and no identifier or label needs them.
 */
export const safeText = (max: number, min = 0) => (min > 0 ? z.string().min(min) : z.string()).max(max)
  .refine(isSafeText, 'must not contain NUL or unpaired surrogate characters')

export const IdSchema = z.string().regex(ID_PATTERN, 'must be a 24-character hexadecimal id')

export const CompanyQuerySchema = z.object({
  companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
})

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
})
