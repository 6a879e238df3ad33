import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Db } from '../db/db.js'
import { countPendingImports } from '../db/metrics-repository.js'
import { Errors } from '../errors.js'
import { SlotGate } from '../util/slot-gate.js'

export interface LimitsOptions {
  db: Db
  /** Requests per window per token (Bearer) or, without one, per client IP. */
  rateLimitMax: number
  rateLimitWindowMs: number
  /** Checks parsed and planned at once by this process; more are turned away with 503 at once. */
  maxConcurrentChecks: number
  /** Checks that may wait for a slot, and for how long; beyond either: 503 at once. */
  maxQueuedChecks: number
  checkQueueTimeoutMs: number
  /** Imports a company may have accepted and not finished; the next one is a 429. */
  maxPendingImports: number
}

const UNLIMITED = /^\/(health|ready|metrics)(\?|$)/
const CHECK = /\/users\/imports(\/synchronize)?\/check(\?|$)/
const IMPORT = /\/users\/imports(\/synchronize)?(\?|$)/

/** A token's signature identifies it without keeping the token itself in the limiter's keys. */
function clientKey (request: FastifyRequest): string {
  const auth = request.headers.authorization
  if (auth?.startsWith('Bearer ')) {
    const signature = auth.slice(7).split('.')[2]
    if (signature) return 'token:' + createHash('sha256').update(signature).digest('base64url').slice(0, 22)
  }
  return 'ip:' + request.ip
}

export default fp<LimitsOptions>(async (app, opts) => {
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimitMax,
    timeWindow: opts.rateLimitWindowMs,
    hook: 'onRequest',
    keyGenerator: clientKey,
    allowList: (request) => UNLIMITED.test(request.url),
    errorResponseBuilder: (_request, context) => Errors.tooManyRequests(`Rate limit of ${context.max} requests reached, retry in ${context.after}`),
  })

  // Waiting checks cost nothing (their bodies are not read yet); turning them all away at once would
  // make busy clients retry in a loop that starves every other route of the event loop.
  const gate = new SlotGate(opts.maxConcurrentChecks, opts.maxQueuedChecks, opts.checkQueueTimeoutMs)
  const released = Symbol('check slot released')
  type Slot = FastifyRequest & { [released]?: boolean }
  const release = async (request: Slot) => {
    if (request[released] === false) { request[released] = true; gate.release() }
  }
  app.addHook('onRequest', async (request: Slot, reply) => {
    if (request.method !== 'POST' || !CHECK.test(request.url)) return
    if (!await gate.acquire()) {
      reply.header('retry-after', '5')
      throw Errors.busy(`${gate.running} checks are running and ${gate.queued} waiting; retry in a few seconds`)
    }
    request[released] = false
  })
  app.addHook('onResponse', release)
  app.addHook('onRequestAbort', release)

  // After authentication (preHandler), so the company is the caller's or the one asked for.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !IMPORT.test(request.url) || !request.auth) return
    const asked = (request.query as { companyId?: unknown }).companyId
    const companyId = typeof asked === 'string' && asked ? asked : request.auth.user.companyId
    const pending = await countPendingImports(opts.db, companyId)
    if (pending >= opts.maxPendingImports) {
      reply.header('retry-after', '30')
      throw Errors.tooManyRequests(`Company ${companyId} already has ${pending} imports in progress (limit ${opts.maxPendingImports}); retry when one has terminated`)
    }
  })
}, { name: 'limits', dependencies: ['auth'] })
