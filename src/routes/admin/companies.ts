import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { listCompanies } from '../../db/companies-repository.js'
import { PageQuerySchema, safeText } from '../../schemas/common.js'

const CompanyItemSchema = z.object({ id: z.string(), name: z.string(), organizationId: z.string().nullable() })

const companies: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  app.get('/companies', {
    schema: {
      summary: 'The companies the caller administers (D12: superadmin every one, organization_admin those of its organization, company_admin its own), by name, paged',
      description: 'What a client offers as the companyId of the other routes, as the web console\'s company picker does.',
      tags: ['admin'],
      querystring: PageQuerySchema.extend({
        name: safeText(128).optional().describe('Only the companies whose name contains this text (compared without case)'),
      }),
      response: { 200: z.object({ data: z.array(CompanyItemSchema), limit: z.number(), offset: z.number(), total: z.number() }) },
    },
  }, async (request) => {
    const filter = app.companyScope.administered(request.auth!.user)
    const { limit, offset, name } = request.query
    const page = await listCompanies(opts.db, filter, { limit, offset, name: name === '' ? undefined : name })
    return { data: page.rows, limit, offset, total: page.total }
  })
}

export default companies
