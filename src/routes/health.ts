import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

export interface ReadinessCheck {
  name: string
  /** Resolves when the dependency answers (optionally with what it is doing); rejects (or times out) otherwise. */
  check: () => Promise<void | string>
}

const CHECK_TIMEOUT_MS = 2000

async function run (c: ReadinessCheck): Promise<{ name: string, ok: boolean, detail?: string, error?: string }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
  })
  try {
    const detail = await Promise.race([c.check(), timeout])
    return { name: c.name, ok: true, ...(typeof detail === 'string' ? { detail } : {}) }
  } catch (err) {
    return { name: c.name, ok: false, error: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

const health: FastifyPluginAsyncZod<{ checks: ReadinessCheck[] }> = async (app, opts) => {
  // What each dependency is doing (the XMPP account, its last error, the outbox backlog) is for
  // operators; a load balancer's probe needs only up or down.
  app.get('/health', {
    schema: { summary: 'The process is up', tags: ['health'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    schema: {
      summary: 'The database and the queue answer (else 503)',
      description: 'Anonymous callers get `{status}` only; with `Authorization: Bearer <METRICS_TOKEN>` or a superadmin\'s token the answer adds `checks`, one per dependency with its detail or error.',
      tags: ['health'],
      security: [],
    },
  }, async (request, reply) => {
    const results = await Promise.all(opts.checks.map(run))
    const ready = results.every((r) => r.ok)
    const status = ready ? 'ready' : 'unavailable'
    const detailed = (await app.operatorAccess(request, reply)) === true
    return reply.code(ready ? 200 : 503).send(detailed ? { status, checks: results } : { status })
  })
}

export default health
