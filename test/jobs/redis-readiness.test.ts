import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pino from 'pino'
import type { Redis } from 'ioredis'
import { openProducerRedis, redisReadiness } from '../../src/jobs/redis.js'
import { reachedLeg } from '../helpers/legs.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { buildTestApp, OPERATOR } from '../helpers/app.js'

const logger = pino({ level: 'silent' })

/** In CI the Redis leg must run: a missing REDIS_URL fails here instead of skipping. */
function redisUrl (): string | undefined {
  if (process.env.CI === 'true' && !process.env.REDIS_URL) throw new Error('CI=true but REDIS_URL is not set: the Redis leg would be skipped')
  return process.env.REDIS_URL
}

describe('readiness with Redis', () => {
  let tdb: TestDb
  const clients: Redis[] = []
  beforeAll(async () => { tdb = await openTestDb('pglite') })
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await tdb?.close()
  })

  it('/ready is 503 within the check timeout when Redis does not answer', async () => {
    const dead = openProducerRedis('redis://127.0.0.1:1', logger)
    clients.push(dead)
    const app = await buildTestApp(tdb.db, { checks: [redisReadiness(dead)] })
    try {
      const started = Date.now()
      const res = await app.inject({ method: 'GET', url: '/ready', headers: OPERATOR })
      expect(res.statusCode).toBe(503)
      expect(res.json().checks[1]).toMatchObject({ name: 'queue', ok: false })
      expect(Date.now() - started).toBeLessThan(3000)
    } finally {
      await app.close()
    }
  })

  const url = redisUrl()
  it.runIf(url)('/ready is 200 when Redis answers', async () => {
    const live = openProducerRedis(url!, logger)
    clients.push(live)
    const app = await buildTestApp(tdb.db, { checks: [redisReadiness(live)] })
    try {
      if (live.status !== 'ready') await new Promise((resolve) => live.once('ready', resolve))
      reachedLeg('redis')
      const res = await app.inject({ method: 'GET', url: '/ready', headers: OPERATOR })
      expect(res.statusCode).toBe(200)
      expect(res.json().checks).toEqual([{ name: 'database', ok: true }, { name: 'queue', ok: true }])
    } finally {
      await app.close()
    }
  })
})
