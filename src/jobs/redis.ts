import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { ReadinessCheck } from '../routes/health.js'

/**
 * The API's Redis connection (a producer's): no offline queue, so a command fails at once while
 * Redis is down and the API can answer 503 instead of hanging.
 */
export function openProducerRedis (url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  let down = false
  redis.on('error', (err) => {
    if (!down) logger.warn({ err: err.message }, 'Redis unreachable')
    down = true
  })
  redis.on('ready', () => {
    if (down) logger.info('Redis reachable again')
    down = false
  })
  return redis
}

export function redisReadiness (redis: Redis): ReadinessCheck {
  return {
    name: 'queue',
    check: async () => {
      const answer = await redis.ping()
      if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`)
    },
  }
}
