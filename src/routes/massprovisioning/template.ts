import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { generateTemplate, templateFileName } from '../../csv/template.js'
import { MODES } from '../../csv/types.js'
import { IdSchema } from '../../schemas/common.js'

const template: FastifyPluginAsyncZod = async (app) => {
  app.get('/users/template', {
    schema: {
      summary: 'CSV template of a mode, generated from the column registry that validates uploads (D5)',
      description: 'Always text/csv, whatever Accept says. comment=true returns only the % documentation block.',
      tags: ['massprovisioning'],
      querystring: z.object({
        mode: z.enum(MODES).default('useranddevice'),
        comment: z.enum(['true', 'false']).default('false'),
        companyId: IdSchema.optional(),
      }),
    },
  }, async (request, reply) => {
    await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    const { mode, comment } = request.query
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${templateFileName(mode)}"`)
      .send(generateTemplate(mode, { commentOnly: comment === 'true' }))
  })
}

export default template
