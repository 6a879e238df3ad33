import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../db/db.js'
import { readOperationalCounts, type OperationalCounts } from '../db/metrics-repository.js'

const IMPORT_STATUSES = ['Pending', 'Terminated', 'Failed', 'Cancelled'] as const

/**
 * Prometheus metrics at /metrics, for operators only (METRICS_TOKEN or a superadmin's token). Import
 * and outbox figures are read from the database, so every API process reports the same numbers
 * whichever worker applied the lines; they are aggregates over whole tables, so they are read at most
 * once per `cacheMs` whatever the number of scrapers (one read at a time, shared by the scrapes
 * that arrive meanwhile): the cost of a scrape does not grow with the tables.
 */
export default fp<{ db: Db, cacheMs: number }>(async (app, opts) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'massprov_' })

  const http = new Histogram({
    name: 'massprov_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const scrapeErrors = new Counter({ name: 'massprov_metrics_scrape_errors_total', help: 'Scrapes whose database figures failed', registers: [registry] })
  const imports = new Gauge({ name: 'massprov_imports', help: 'Imports by status', labelNames: ['status'] as const, registers: [registry] })
  const linesApplied = new Gauge({ name: 'massprov_import_lines_processed', help: 'Import lines processed (applied or failed), all imports', registers: [registry] })
  const linesFailed = new Gauge({ name: 'massprov_import_lines_failed', help: 'Import lines that failed, all imports', registers: [registry] })
  const queueDepth = new Gauge({ name: 'massprov_queue_depth', help: 'Imports accepted and not yet terminated (waiting or running)', registers: [registry] })
  const outbox = new Gauge({ name: 'massprov_outbox_backlog', help: 'Notifications owed and not yet sent', registers: [registry] })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    http.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  let cached: { at: number, counts: Promise<OperationalCounts> } | undefined
  const operationalCounts = (): Promise<OperationalCounts> => {
    const now = performance.now()
    if (cached && now - cached.at < opts.cacheMs) return cached.counts
    const entry = { at: now, counts: readOperationalCounts(opts.db) }
    // A failed read is not kept: the next scrape tries again.
    entry.counts.catch(() => { if (cached === entry) cached = undefined })
    cached = entry
    return entry.counts
  }

  app.get('/metrics', {
    schema: { hide: true },
    config: { rateLimit: false },
    preHandler: async (request, reply) => {
      const access = await app.operatorAccess(request, reply)
      if (access !== true) throw access
    },
  }, async (_request, reply) => {
    try {
      const counts = await operationalCounts()
      for (const status of IMPORT_STATUSES) imports.set({ status }, counts.importsByStatus[status] ?? 0)
      linesApplied.set(counts.linesProcessed)
      linesFailed.set(counts.linesFailed)
      queueDepth.set(counts.importsByStatus.Pending ?? 0)
      outbox.set(counts.outboxBacklog)
    } catch (err) {
      scrapeErrors.inc()
      app.log.warn({ err }, 'metrics: database figures unavailable')
    }
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}, { name: 'metrics', dependencies: ['operator-access'] })
