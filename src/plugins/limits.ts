import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../db/db.js'
import { countPendingImports } from '../db/metrics-repository.js'
import { Errors } from '../errors.js'
import { guardBodyIdle } from '../util/body-idle-guard.js'
import { SlotGate } from '../util/slot-gate.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route parses and plans a CSV: its body is read only once it holds one of MAX_CONCURRENT_CHECKS slots. */
    checkSlot?: boolean
    /** The route stores an import: 429 when the company already has MAX_PENDING_IMPORTS unfinished. */
    pendingImportCap?: boolean
  }
  interface FastifyInstance {
    /** Check slots held and checks waiting for one, in this process. */
    checkSlots: { readonly running: number, readonly queued: number }
  }
}

export interface LimitsOptions {
  db: Db
  /** Requests per window per client IP, counted before authentication (anonymous and forged tokens included). */
  ipRateLimitMax: number
  /** Requests per window per authenticated user, whichever of its tokens it uses. */
  rateLimitMax: number
  rateLimitWindowMs: number
  /** Checks parsed and planned at once by this process; more wait in a bounded queue. */
  maxConcurrentChecks: number
  /** Checks that may wait for a slot, and for how long; beyond either: 503 at once. */
  maxQueuedChecks: number
  checkQueueTimeoutMs: number
  /** Imports a company may have accepted and not finished; the next one is a 429. */
  maxPendingImports: number
  /** Longest pause while a request body is uploading; then 408 and the connection is closed. */
  bodyIdleTimeoutMs: number
}

const UNLIMITED = new Set(['/health', '/ready', '/metrics'])

function hasBody (request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false
  return Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined
}

/**
 * Authenticate, then scope, then spend: the per-IP limit runs first (onRequest, before any token is
 * read); the per-user limit, the pending-import cap and the check slot run in preParsing, after the
 * route scope's authenticate and requireAdmin hooks and after the company asked for is resolved, so
 * an unauthorised caller gets its 401/403 before it counts anything or takes a slot, and no body
 * byte is read before the slot is held. Limits follow the matched route's config, never the URL text.
 */
export default fp<LimitsOptions>(async (app, opts) => {
  // A root hook, not the plugin's per-route one: route hooks run after the scope's authenticate.
  await app.register(rateLimit, {
    global: false,
    max: opts.ipRateLimitMax,
    timeWindow: opts.rateLimitWindowMs,
    allowList: (request) => UNLIMITED.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) => Errors.tooManyRequests(`Rate limit of ${context.max} requests per client address reached, retry in ${context.after}`),
  })
  app.addHook('onRequest', app.rateLimit())
  const perUser = app.createRateLimit({ max: opts.rateLimitMax, timeWindow: opts.rateLimitWindowMs, keyGenerator: (request) => `user:${request.auth?.user.id ?? ''}` })

  async function limitUser (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const verdict = await perUser(request)
    if (verdict.isAllowed || !verdict.isExceeded) return
    reply.header('retry-after', String(verdict.ttlInSeconds))
    throw Errors.tooManyRequests(`Rate limit of ${verdict.max} requests reached, retry in ${verdict.ttlInSeconds} s`)
  }

  async function companyAsked (request: FastifyRequest): Promise<string> {
    if (!request.auth) throw Errors.missingCredentials()
    const asked = (request.query as { companyId?: unknown }).companyId
    if (asked !== undefined && typeof asked !== 'string') throw Errors.badParameter({ param: 'companyId', msg: 'must be given once' })
    return app.companyScope.resolve(request.auth.user, asked)
  }

  async function capPendingImports (companyId: string, reply: FastifyReply): Promise<void> {
    const pending = await countPendingImports(opts.db, companyId)
    if (pending < opts.maxPendingImports) return
    reply.header('retry-after', '30')
    throw Errors.tooManyRequests(`Company ${companyId} already has ${pending} imports in progress (limit ${opts.maxPendingImports}); retry when one has terminated`)
  }

  // Waiting checks cost nothing (their bodies are not read yet); turning them all away at once would
  // make busy clients retry in a loop that starves every other route of the event loop.
  const gate = new SlotGate(opts.maxConcurrentChecks, opts.maxQueuedChecks, opts.checkQueueTimeoutMs)
  app.decorate('checkSlots', { get running () { return gate.running }, get queued () { return gate.queued } })
  const freeSlot = Symbol('free check slot')
  type SlotRequest = FastifyRequest & { [freeSlot]?: () => void }

  /**
   * The slot is given back exactly once, by whichever comes first: the answer sent, or the
   * connection closed (client gone, timeout, while queued, uploading or receiving the answer).
   */
  async function takeCheckSlot (request: SlotRequest, reply: FastifyReply): Promise<void> {
    const response = reply.raw
    const gone = new AbortController()
    let held = false
    const free = () => {
      if (!held) return
      held = false
      gate.release()
    }
    response.once('close', () => {
      gone.abort()
      free()
    })
    if (response.closed) gone.abort()
    if (!await gate.acquire(gone.signal)) {
      reply.header('retry-after', '5')
      throw Errors.busy(gone.signal.aborted
        ? 'the client left while waiting for a check slot'
        : `${gate.running} checks are running and ${gate.queued} waiting; retry in a few seconds`)
    }
    held = true
    request[freeSlot] = free
    if (gone.signal.aborted) {
      free()
      throw Errors.busy('the client left while waiting for a check slot')
    }
  }
  app.addHook('onResponse', async (request: SlotRequest) => { request[freeSlot]?.() })

  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.auth) await limitUser(request, reply)
    const { checkSlot, pendingImportCap } = request.routeOptions.config
    if (checkSlot || pendingImportCap) {
      const companyId = await companyAsked(request)
      if (pendingImportCap) await capPendingImports(companyId, reply)
      if (checkSlot) await takeCheckSlot(request, reply)
    }
    if (!hasBody(request)) return payload
    const body = guardBodyIdle(payload, opts.bodyIdleTimeoutMs, () => {
      reply.header('connection', 'close')
      return Errors.requestTimeout(`No byte of the request body arrived for ${opts.bodyIdleTimeoutMs / 1000} s`)
    })
    reply.raw.once('close', () => body.destroy())
    return body
  })
}, { name: 'limits', dependencies: ['auth'] })
