import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const about: FastifyPluginAsyncZod<{ version: string }> = async (app, opts) => {
  app.get('/about', {
    schema: {
      summary: 'Portal version (bare object, no data envelope; D1)',
      tags: ['massprovisioning'],
      response: { 200: z.object({ version: z.string(), description: z.string() }) },
    },
  }, async () => ({
    version: opts.version,
    description: 'massprov: self-hosted Rainbow mass provisioning portal (users and devices by CSV)',
  }))
}

export default about
