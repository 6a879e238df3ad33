import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { Errors, RainbowError } from './errors.js'

/**
 * Node's errors before a request reaches Fastify (headers or request timeout, malformed or
 * oversized HTTP): answered in the Rainbow envelope, then the connection is closed, as Node does.
 */
export function answerClientError (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const error = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? Errors.requestTimeout('The request was not received in time (HEADERS_TIMEOUT or REQUEST_TIMEOUT)')
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? Errors.headersTooLarge()
      : Errors.badParameter('Malformed HTTP request')
  if (socket.writable) socket.write(rawAnswer(error))
  socket.destroy()
}

function rawAnswer (error: RainbowError): string {
  const body = JSON.stringify(error.toBody())
  const status = error.statusCode
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}
