import closeWithGrace from 'close-with-grace'
import { createLogger } from './logger.js'
import { openRuntime } from './bootstrap.js'
import { ConfigError, loadConfig } from './config.js'
import { openImportRuntime, selectBackend } from './jobs/runtime.js'
import { startOutboxRelay, xmppSettingsFromConfig } from './notifications/outbox-relay.js'

/**
 * `npm run worker`: consumes the import queue (BullMQ on Redis, or on PostgreSQL without REDIS_URL).
 * Any number of these share one queue; the API processes only produce when RUN_WORKER=false.
 */
async function main (): Promise<void> {
  const config = loadConfig(process.env)
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' })
  const backend = selectBackend(config)
  if (!backend) throw new ConfigError('npm run worker needs DATABASE_URL (and REDIS_URL for BullMQ on Redis); the embedded mode applies imports inside the server')
  const runtime = await openRuntime(config, logger, { migrate: config.MIGRATE_ON_START })
  const imports = await openImportRuntime(config, runtime.db, logger, { consume: true })
  const relay = startOutboxRelay({ db: runtime.db, logger, xmpp: xmppSettingsFromConfig(config), options: { progressIntervalSeconds: config.XMPP_PROGRESS_INTERVAL } })

  // The deadline of worker.close() is SHUTDOWN_TIMEOUT; close-with-grace's own is a last resort after it.
  closeWithGrace({ delay: (config.SHUTDOWN_TIMEOUT + 10) * 1000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down')
    else logger.info({ signal }, 'shutting down')
    await imports.close()
    await relay.stop()
    await runtime.close()
  })
  logger.info({ queue: backend.kind, concurrency: config.IMPORT_CONCURRENCY, hashThreads: config.HASH_THREADS }, 'import worker started')
  process.stdout.write(`massprov worker started (queue: ${backend.kind})\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof ConfigError
    ? `massprov worker: ${err.message}\n`
    : `massprov worker: failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
