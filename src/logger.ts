import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Secrets never reach a log line: request headers that carry credentials, and any field named like a
 * password, token or secret at the first two levels of a logged object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-rainbow-app-auth"]',
  'req.headers.apikey',
  'req.headers["x-rainbow-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'password', '*.password', '*.*.password',
  'token', '*.token', '*.*.token',
  'appSecret', '*.appSecret',
  'secret', '*.secret',
  'passwordHash', '*.passwordHash',
  'XMPP_PASSWORD', '*.XMPP_PASSWORD',
  'JWT_SECRET', '*.JWT_SECRET',
]

export function createLogger (opts: { level: string, name?: string }, destination?: DestinationStream): Logger {
  return pino({
    level: opts.level,
    ...(opts.name ? { name: opts.name } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }, destination)
}
