import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export const CORRELATION_HEADER = 'x-rainbow-correlation-id'

// The client's id lands in every log line, in 500 bodies and in a response header: only a short
// token of characters that need no escaping anywhere (the SDK sends 16 random alphanumerics).
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** Fastify's genReqId: the client's correlation id when it is safe to repeat, else a fresh UUID. */
export function correlationId (req: { headers: IncomingHttpHeaders }): string {
  const sent = req.headers[CORRELATION_HEADER]
  return typeof sent === 'string' && SAFE_ID.test(sent) ? sent : randomUUID()
}
