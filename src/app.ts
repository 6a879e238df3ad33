import Fastify, { type FastifyBaseLogger } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { createCheckPool } from './csv/check-pool.js'
import type { Db } from './db/db.js'
import authPlugin from './plugins/auth.js'
import errorHandler from './plugins/error-handler.js'
import responseHeaders from './plugins/response-headers.js'
import { clientErrorHandler, frameworkErrors } from './plugins/framework-errors.js'
import jsonBody from './plugins/json-body.js'
import openapi from './plugins/openapi.js'
import limits from './plugins/limits.js'
import metrics from './plugins/metrics.js'
import operatorAccess from './plugins/operator-access.js'
import routes from './routes/index.js'
import type { ReadinessCheck } from './routes/health.js'
import { createApplicationService } from './services/applications.js'
import { deriveSecretsKey } from './services/app-credentials.js'
import { createLoginBackoff } from './services/login-backoff.js'
import { VERSION } from './version.js'
import { correlationId } from './util/correlation-id.js'
import type { ImportQueue } from './jobs/queue.js'

export interface AppDeps {
  db: Db
  config: {
    JWT_SECRET: string
    JWT_TTL: number
    JWT_ISSUER: string
    /** Required: application secrets are encrypted under it (never derived from JWT_SECRET). */
    SECRETS_KEY: string
    SECRETS_KEY_PREVIOUS?: string | undefined
    JWT_SECRET_PREVIOUS?: string | undefined
    REQUIRE_APP_AUTH: boolean
    RATE_LIMIT_MAX?: number
    RATE_LIMIT_IP_MAX?: number
    RATE_LIMIT_WINDOW?: number
    MAX_CONCURRENT_CHECKS?: number
    CHECK_THREADS?: number
    MAX_QUEUED_CHECKS?: number
    CHECK_QUEUE_TIMEOUT?: number
    MAX_PENDING_IMPORTS?: number
    MAX_DELETE_PERCENT?: number
    METRICS_TOKEN?: string | undefined
    METRICS_CACHE_S?: number
    LOGIN_MAX_FAILURES?: number
    LOGIN_FAILURE_WINDOW?: number
    LOGIN_BACKOFF?: number
    LOGIN_BACKOFF_MAX?: number
    HEADERS_TIMEOUT?: number
    REQUEST_TIMEOUT?: number
    BODY_TIMEOUT?: number
    KEEP_ALIVE_TIMEOUT?: number
    PUBLIC_URL?: string | undefined
    HOST?: string
    PORT?: number
    OAUTH_REFRESH_TTL?: number
  }
  /** Where accepted imports are announced; without one they wait in the database for a worker. */
  queue?: ImportQueue
  /** Readiness probes beyond the database (queue, ...). */
  checks?: ReadinessCheck[]
  logger?: FastifyBaseLogger | boolean
  /** The console's registered redirect URIs (known once the server listens), and its build folder in tests. */
  console?: { root?: string, redirectUris: () => string[] }
}

/** Builds the HTTP application; never listens, so tests and tools can inject requests. */
export async function buildApp (deps: AppDeps) {
  const requestTimeoutMs = (deps.config.REQUEST_TIMEOUT ?? 300) * 1000
  const app = Fastify({
    loggerInstance: typeof deps.logger === 'object' ? deps.logger : undefined,
    logger: typeof deps.logger === 'object' ? undefined : (deps.logger ?? false),
    requestIdHeader: false,
    genReqId: correlationId,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: (deps.config.KEEP_ALIVE_TIMEOUT ?? 72) * 1000,
    // Node enforces the headers and request timeouts on this tick (default 30 s: far too coarse for them).
    http: { headersTimeout: Math.min((deps.config.HEADERS_TIMEOUT ?? 30) * 1000, requestTimeoutMs), connectionsCheckingInterval: 1000 },
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  const previousKey = deps.config.SECRETS_KEY_PREVIOUS
  const applications = createApplicationService({
    db: deps.db,
    secretsKey: deriveSecretsKey(deps.config.SECRETS_KEY),
    previousSecretsKey: previousKey ? deriveSecretsKey(previousKey) : undefined,
  })

  await app.register(responseHeaders)
  await app.register(errorHandler)
  await app.register(jsonBody)
  await app.register(openapi)
  await app.register(authPlugin, {
    db: deps.db,
    applications,
    jwtSecret: deps.config.JWT_SECRET,
    jwtSecretPrevious: deps.config.JWT_SECRET_PREVIOUS,
    jwtTtlSeconds: deps.config.JWT_TTL,
    issuer: deps.config.JWT_ISSUER,
    requireAppAuth: deps.config.REQUIRE_APP_AUTH,
  })
  await app.register(operatorAccess, { metricsToken: deps.config.METRICS_TOKEN })
  await app.register(metrics, { db: deps.db, cacheMs: (deps.config.METRICS_CACHE_S ?? 15) * 1000 })
  await app.register(limits, {
    db: deps.db,
    ipRateLimitMax: deps.config.RATE_LIMIT_IP_MAX ?? 2400,
    rateLimitMax: deps.config.RATE_LIMIT_MAX ?? 1200,
    rateLimitWindowMs: (deps.config.RATE_LIMIT_WINDOW ?? 60) * 1000,
    maxConcurrentChecks: deps.config.MAX_CONCURRENT_CHECKS ?? 2,
    maxQueuedChecks: deps.config.MAX_QUEUED_CHECKS ?? 500,
    checkQueueTimeoutMs: (deps.config.CHECK_QUEUE_TIMEOUT ?? 60) * 1000,
    maxPendingImports: deps.config.MAX_PENDING_IMPORTS ?? 10,
    bodyIdleTimeoutMs: (deps.config.BODY_TIMEOUT ?? 30) * 1000,
  })
  const checkThreads = deps.config.CHECK_THREADS ?? 2
  const lineThreads = checkThreads > 0 ? createCheckPool(checkThreads) : undefined
  if (lineThreads !== undefined) app.addHook('onClose', () => lineThreads.close())
  await app.register(routes, {
    db: deps.db,
    lineThreads,
    version: VERSION,
    requireAppAuth: deps.config.REQUIRE_APP_AUTH,
    checks: [{ name: 'database', check: () => deps.db.ping() }, ...(deps.checks ?? [])],
    queue: deps.queue,
    maxDeletePercent: deps.config.MAX_DELETE_PERCENT ?? 10,
    loginBackoff: createLoginBackoff({
      maxFailures: deps.config.LOGIN_MAX_FAILURES ?? 5,
      windowMs: (deps.config.LOGIN_FAILURE_WINDOW ?? 900) * 1000,
      baseDelayMs: (deps.config.LOGIN_BACKOFF ?? 30) * 1000,
      maxDelayMs: (deps.config.LOGIN_BACKOFF_MAX ?? 900) * 1000,
    }),
    applications,
    oauth: {
      issuer: (deps.config.PUBLIC_URL ?? `http://${deps.config.HOST ?? '127.0.0.1'}:${deps.config.PORT ?? 8080}`).replace(/\/+$/, ''),
      accessTokenTtlSeconds: deps.config.JWT_TTL,
      refreshTokenTtlSeconds: deps.config.OAUTH_REFRESH_TTL ?? 14 * 24 * 3600,
    },
    console: deps.console ?? { redirectUris: () => [] },
  })
  return app
}
