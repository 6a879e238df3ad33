import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Errors, type RainbowError } from '../errors.js'

/**
 * Fastify's `frameworkErrors`: a URL the router cannot read (bad percent-encoding, a path parameter
 * over maxParamLength, a failing async constraint) is refused before any route runs. Fastify's own
 * answer is not the envelope and repeats the URL; this one is, and does not.
 */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const refused = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? Errors.paramTooLong()
    : error.code === 'FST_ERR_BAD_URL' ? Errors.badUrl() : Errors.badParameter('The request could not be routed')
  request.log.info({ code: error.code }, 'request refused before routing')
  return reply.code(refused.statusCode).send(refused.toBody())
}

function errorCodeOf (err: Error): string | undefined {
  return (err as { code?: string }).code
}

/**
 * Node's `clientError`: a request the HTTP parser refused (headers too large: 431, not received in
 * time: 408, anything malformed: 400) never reaches Fastify, so the answer is written on the socket,
 * still in the envelope, and the connection is closed as Node does.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error, socket: Socket): void {
  const code = errorCodeOf(err)
  if (code === 'ECONNRESET' || socket.destroyed) return
  const refused: RainbowError = code === 'HPE_HEADER_OVERFLOW'
    ? Errors.headersTooLarge()
    : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? Errors.requestTimeout() : Errors.badHttpRequest()
  this.log.debug({ err }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify(refused.toBody())
    const status = refused.statusCode
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
