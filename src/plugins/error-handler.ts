import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { Errors, RainbowError } from '../errors.js'
import { echoPath } from '../util/safe-text.js'

/** One handler, one shape: every error leaves as the Rainbow envelope (api-contract §1, D7). */
export default fp(async (app) => {
  app.setNotFoundHandler(async (request, reply) => {
    const err = Errors.routeNotFound(request.method, echoPath(request.url.split('?')[0] ?? request.url))
    return reply.code(404).send(err.toBody())
  })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const mapped = toRainbowError(error)
    if (mapped) {
      if (mapped.statusCode >= 500) request.log.error({ err: error }, 'request failed')
      return reply.code(mapped.statusCode).send(mapped.toBody())
    }
    request.log.error({ err: error }, 'unhandled error')
    return reply.code(500).send(Errors.internal(String(request.id)).toBody())
  })
}, { name: 'error-handler' })

function toRainbowError (error: FastifyError): RainbowError | undefined {
  if (error instanceof RainbowError) return error
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    return Errors.badParameter(error.validation.map((v) => ({
      param: v.instancePath.replace(/^\//, '').replace(/\//g, '.') || where,
      msg: v.message ?? 'invalid value',
    })))
  }
  const code = error.code ?? ''
  if (code.startsWith('FAST_JWT_') || code.startsWith('FST_JWT_')) {
    return code.includes('EXPIRED') ? Errors.tokenExpired() : Errors.invalidToken()
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return Errors.tooLarge()
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return Errors.unsupportedMediaType(String(error.message).replace(/^Unsupported Media Type:?\s*/, ''))
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return Errors.badJson(error.message)
  }
  if (error.validation) return Errors.badParameter(error.message)
  if (isDatabaseUnavailable(error)) return Errors.unavailable('The database')
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new RainbowError(error.statusCode, error.statusCode * 1000, error.message)
  }
  return undefined
}

/** Connection-level failures (refused, cut, shutting down, pool timeout): say 503 so clients retry, not 500. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'])
function isDatabaseUnavailable (error: { code?: string, message?: string }): boolean {
  if (error.code && UNAVAILABLE_CODES.has(error.code)) return true
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(error.message ?? '')
}
