import { availableParallelism } from 'node:os'
import { z } from 'zod'

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

export const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port'),
  HOST: z.string().min(1).default('127.0.0.1').describe('HTTP bind address (0.0.0.0 in containers)'),
  DATA_DIR: z.string().min(1).default('./data').describe('Embedded mode: where PGlite and the generated secrets live'),
  DATABASE_URL: z.string().url().optional().describe('PostgreSQL URL; when unset the embedded PGlite is used'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10).describe('pg pool size'),
  REDIS_URL: z.string().url().optional().describe('Redis URL for BullMQ; when unset imports are queued in-process (embedded) or on PostgreSQL'),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional()
    .describe('HS256 signing key; generated and kept in DATA_DIR in embedded mode, required with DATABASE_URL'),
  JWT_TTL: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(3600).describe('Token lifetime in seconds'),
  JWT_ISSUER: z.string().min(1).default('massprov').describe('iss claim written and required in tokens'),
  JWT_SECRET_PREVIOUS: z.string().min(32, 'JWT_SECRET_PREVIOUS must be at least 32 characters').optional()
    .describe('The JWT_SECRET before a rotation: tokens it signed still verify until they expire; nothing is signed with it'),
  SECRETS_KEY: z.string().min(32, 'SECRETS_KEY must be at least 32 characters').optional()
    .describe('Key that encrypts application secrets at rest; generated and kept in DATA_DIR in embedded mode, required with DATABASE_URL'),
  SECRETS_KEY_PREVIOUS: z.string().min(32, 'SECRETS_KEY_PREVIOUS must be at least 32 characters').optional()
    .describe('The SECRETS_KEY before a rotation: secrets it encrypted still open until `massprov rekey-secrets` re-encrypts them'),
  REQUIRE_APP_AUTH: bool.default(false).describe('Require an application credential (x-rainbow-app-auth or APIKey)'),
  IMPORT_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000).describe('Lines applied per transaction'),
  IMPORT_STALL_S: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(600)
    .describe('Seconds without progress by any worker after which a Pending import ends Failed (stall watchdog); keep it above the longest time an import may wait for a free worker slot'),
  IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2).describe('Imports of different companies applied at once by one process'),
  HASH_THREADS: z.coerce.number().int().min(1).max(64).default(() => Math.max(1, availableParallelism() - 1))
    .describe('Threads hashing imported passwords (argon2id); default: one less than the cores, so HTTP keeps one'),
  RUN_WORKER: bool.default(true).describe('With DATABASE_URL: the API process also consumes the import queue (false = produce only, run `npm run worker`)'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('massprov').describe('BullMQ prefix (Redis keys) or queue-name prefix (PostgreSQL backend)'),
  SHUTDOWN_TIMEOUT: z.coerce.number().int().min(1).max(3600).default(25).describe('Seconds a worker waits for its imports to reach a chunk boundary on SIGTERM'),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).max(1_000_000).default(1200).describe('Requests per RATE_LIMIT_WINDOW per authenticated user (all its tokens); over it: 429 with Retry-After'),
  RATE_LIMIT_IP_MAX: z.coerce.number().int().min(1).max(10_000_000).default(2400)
    .describe('Requests per RATE_LIMIT_WINDOW per client IP, counted before authentication (anonymous and bad tokens included); over it: 429'),
  RATE_LIMIT_WINDOW: z.coerce.number().int().min(1).max(3600).default(60).describe('Rate-limit window in seconds'),
  MAX_CONCURRENT_CHECKS: z.coerce.number().int().min(1).max(256).default(2).describe('Checks one process runs at once; more wait in a bounded queue (MAX_QUEUED_CHECKS)'),
  MAX_QUEUED_CHECKS: z.coerce.number().int().min(0).max(100_000).default(500).describe('Checks that wait for a free slot (their bodies unread); beyond: 503 at once'),
  CHECK_THREADS: z.coerce.number().int().min(0).max(64).default(2)
    .describe('Threads that parse and validate the lines of large checked files while the event loop plans them; 0 = on the event loop'),
  CHECK_QUEUE_TIMEOUT: z.coerce.number().int().min(1).max(600).default(60).describe('Seconds a check waits for a slot before a 503'),
  MAX_PENDING_IMPORTS: z.coerce.number().int().min(1).max(10_000).default(10).describe('Unfinished imports per company; the next one answers 429'),
  MAX_DELETE_PERCENT: z.coerce.number().int().min(0).max(100).default(10)
    .describe('Deletion safeguard: an import deleting more than this percentage of the company\'s live users is refused (409630) unless it carries confirmDeletes=<its deletion count>; 100 = off, 0 = every deletion needs it'),
  METRICS_TOKEN: z.string().min(32, 'METRICS_TOKEN must be at least 32 characters').max(512).optional()
    .describe('Bearer token a scraper sends to read /metrics and the details of /ready (a superadmin\'s token also does); without it only superadmins can'),
  METRICS_CACHE_S: z.coerce.number().int().min(1).max(3600).default(15).describe('Seconds the database figures of /metrics are reused between scrapes'),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5)
    .describe('Failed sign-ins of one login (existing or not) before its next attempts answer 429; counted per process'),
  LOGIN_FAILURE_WINDOW: z.coerce.number().int().min(1).max(86_400).default(900).describe('Seconds without a failed sign-in after which a login\'s failures are forgotten'),
  LOGIN_BACKOFF: z.coerce.number().int().min(1).max(86_400).default(30).describe('Seconds of the first hold after LOGIN_MAX_FAILURES; doubled by each further failure'),
  LOGIN_BACKOFF_MAX: z.coerce.number().int().min(1).max(86_400).default(900).describe('Longest hold of one login, seconds'),
  HEADERS_TIMEOUT: z.coerce.number().int().min(1).max(600).default(30).describe('Seconds a client has to send the request headers; then the connection is closed'),
  REQUEST_TIMEOUT: z.coerce.number().int().min(1).max(3600).default(300)
    .describe('Seconds a client has to send a whole request (headers, any wait for a check slot, body); then 408 and the connection is closed'),
  BODY_TIMEOUT: z.coerce.number().int().min(1).max(600).default(30).describe('Longest pause, in seconds, while a request body uploads; then 408 and the connection is closed'),
  KEEP_ALIVE_TIMEOUT: z.coerce.number().int().min(1).max(3600).default(72).describe('Seconds an idle keep-alive connection stays open (above the usual 60 s of load balancers)'),
  PUBLIC_URL: z.string().regex(/^https?:\/\/[^?#\s]+$/, 'must be an http(s) URL without query or fragment').optional()
    .describe('Base URL clients reach this server at: the OAuth issuer identifier and the endpoints of its metadata (default http://HOST:PORT)'),
  OAUTH_REFRESH_TTL: z.coerce.number().int().min(300).max(365 * 24 * 3600).default(14 * 24 * 3600)
    .describe('Seconds an OAuth refresh token stays usable; each refresh issues a new one'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  XMPP_DOMAIN: z.string().min(1).default('localhost').describe('Domain of the JIDs given to new users and of the service account'),
  XMPP_SERVICE: z.string().regex(/^xmpps?:\/\/[^/\s]+$/, 'must look like xmpp://host:5222 or xmpps://host:5223').optional()
    .describe('XMPP server the notifications go through; without it the relay is idle and notifications wait'),
  XMPP_USERNAME: z.string().min(1).max(1023).optional().describe('Service account (local part, on XMPP_DOMAIN) that sends the notifications'),
  XMPP_PASSWORD: z.string().min(1).max(1023).optional().describe('Password of the service account'),
  XMPP_PROGRESS_INTERVAL: z.coerce.number().min(1).max(3600).default(10).describe('Seconds between two import_status messages of one import'),
  MIGRATE_ON_START: bool.default(true).describe('Apply pending migrations when the server starts (always on in embedded mode)'),
  SEED_DEMO: bool.optional().describe('Seed the demo company on first start (default: true in embedded mode only)'),
})

/** Every variable the server reads (child processes in tests blank them all). */
export const CONFIG_KEYS = Object.keys(EnvSchema.shape) as Array<keyof typeof EnvSchema.shape>

export const ConfigSchema = EnvSchema
  .superRefine((c, ctx) => {
    if (c.DATABASE_URL && !c.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'JWT_SECRET is required when DATABASE_URL is set' })
    }
    if (c.DATABASE_URL && !c.SECRETS_KEY) {
      ctx.addIssue({ code: 'custom', path: ['SECRETS_KEY'], message: 'SECRETS_KEY is required when DATABASE_URL is set (it encrypts application secrets; it is no longer derived from JWT_SECRET)' })
    }
    if (c.LOGIN_BACKOFF_MAX < c.LOGIN_BACKOFF) {
      ctx.addIssue({ code: 'custom', path: ['LOGIN_BACKOFF_MAX'], message: 'LOGIN_BACKOFF_MAX must be at least LOGIN_BACKOFF' })
    }
    if (c.REQUEST_TIMEOUT <= c.CHECK_QUEUE_TIMEOUT) {
      ctx.addIssue({ code: 'custom', path: ['REQUEST_TIMEOUT'], message: 'REQUEST_TIMEOUT must be longer than CHECK_QUEUE_TIMEOUT, or a check would time out while it waits for its slot' })
    }
    if (c.HEADERS_TIMEOUT > c.REQUEST_TIMEOUT) {
      ctx.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT'], message: 'HEADERS_TIMEOUT may not exceed REQUEST_TIMEOUT' })
    }
    const xmpp = [c.XMPP_SERVICE, c.XMPP_USERNAME, c.XMPP_PASSWORD].filter((v) => v !== undefined).length
    if (xmpp > 0 && xmpp < 3) {
      ctx.addIssue({ code: 'custom', path: ['XMPP_SERVICE'], message: 'XMPP_SERVICE, XMPP_USERNAME and XMPP_PASSWORD go together: set all three or none' })
    }
  })
  .transform((c) => ({ ...c, embedded: !c.DATABASE_URL }))

export type Config = z.infer<typeof ConfigSchema>
export type ConfigInput = z.input<typeof ConfigSchema>

export class ConfigError extends Error {}

export function loadConfig (env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = ConfigSchema.safeParse(cleaned)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  return parsed.data
}
