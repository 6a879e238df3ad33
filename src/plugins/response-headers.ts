import fp from 'fastify-plugin'
import { CORRELATION_HEADER } from '../util/correlation-id.js'

/**
 * Headers every answer carries, errors and 404s included (onSend runs for them all): no MIME
 * sniffing of JSON or CSV bodies, and the request id the logs use, so a client can quote it.
 */
export default fp(async (app) => {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header(CORRELATION_HEADER, request.id)
  })
}, { name: 'response-headers' })
