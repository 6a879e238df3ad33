import type { FastifyInstance } from 'fastify'
import { Errors } from '../../errors.js'

export const CSV_BODY_LIMIT = 64 * 1024 * 1024

/**
 * CSV uploads arrive as the raw body (contract §1): text/csv in any charset, text/plain or
 * application/octet-stream, kept as bytes so decoding (BOM, UTF-16, invalid UTF-8) and the reqId
 * hash see exactly what was sent. Anything else is a 415 (D7).
 */
export function acceptCsvBodies (app: FastifyInstance, bodyLimit = CSV_BODY_LIMIT): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body))
  app.addContentTypeParser('*', (request, _payload, done) => done(Errors.unsupportedMediaType(request.headers['content-type'] ?? '(none)')))
}

export function csvBody (body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body
  throw Errors.badParameter('the request body must be the CSV file (Content-Type: text/csv)')
}
