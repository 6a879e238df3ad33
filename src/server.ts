import closeWithGrace from 'close-with-grace'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger } from './logger.js'
import { buildApp } from './app.js'
import { openRuntime } from './bootstrap.js'
import { ConfigError, loadConfig } from './config.js'
import { DataDirLockedError } from './db/data-dir-lock.js'
import { deriveSecretsKey } from './services/app-credentials.js'
import { seedDemo, type DemoCredentials } from './services/demo-seed.js'
import { assertKeysOpenStore, SecretsKeyError } from './services/secrets-key.js'
import { loginBanner } from './banner.js'
import { createApplicationService } from './services/applications.js'
import { consoleRedirectUris, registerConsoleClient } from './services/console-client.js'
import { openProducerRedis, redisReadiness } from './jobs/redis.js'
import { openImportRuntime } from './jobs/runtime.js'
import { startOutboxRelay, xmppSettingsFromConfig } from './notifications/outbox-relay.js'

async function main (): Promise<void> {
  const config = loadConfig(process.env)
  const logger = createLogger({ level: config.LOG_LEVEL })
  const runtime = await openRuntime(config, logger, { migrate: config.MIGRATE_ON_START })
  const jwtSecret = runtime.jwtSecret
  const secretsKey = deriveSecretsKey(runtime.secretsKey)
  // A key that cannot open the stored secrets stops the start here, with what to do, rather than
  // answering 500 to every application sign-in later.
  await assertKeysOpenStore(runtime.db, { current: secretsKey, previous: config.SECRETS_KEY_PREVIOUS ? deriveSecretsKey(config.SECRETS_KEY_PREVIOUS) : undefined })
    .catch(async (err: unknown) => {
      await runtime.close()
      throw err
    })

  let demo: DemoCredentials | undefined
  if (config.SEED_DEMO ?? config.embedded) {
    const seeded = await seedDemo(runtime.db, { secretsKey, xmppDomain: config.XMPP_DOMAIN })
    if (seeded && runtime.dataDir) writeFileSync(join(runtime.dataDir, 'demo-credentials.json'), JSON.stringify(seeded, null, 2) + '\n', { mode: 0o600 })
    demo = seeded ?? readDemoCredentials(runtime.dataDir)
  }

  // The queue only says "work on reqId X"; the import and its progress live in the database.
  // Embedded: in-process, consumed here. BullMQ: this process produces, and consumes with RUN_WORKER.
  const imports = await openImportRuntime(config, runtime.db, logger, { consume: config.RUN_WORKER })
  const queue = imports.queue
  // Notifications leave from wherever imports are applied; without XMPP_* the relay is idle and they wait.
  const relay = config.embedded || config.RUN_WORKER
    ? startOutboxRelay({ db: runtime.db, logger, xmpp: xmppSettingsFromConfig(config), options: { progressIntervalSeconds: config.XMPP_PROGRESS_INTERVAL } })
    : undefined

  const redis = config.REDIS_URL ? openProducerRedis(config.REDIS_URL, logger) : undefined
  let consoleUris: string[] = []
  const app = await buildApp({
    db: runtime.db,
    config: { ...config, JWT_SECRET: jwtSecret, SECRETS_KEY: runtime.secretsKey },
    checks: [...(redis ? [redisReadiness(redis)] : []), ...(relay ? [relay.readiness] : [])],
    queue,
    logger,
    console: { redirectUris: () => consoleUris },
  })

  closeWithGrace({ delay: (config.SHUTDOWN_TIMEOUT + 10) * 1000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down')
    else logger.info({ signal }, 'shutting down')
    await app.close()
    await imports.close()
    await relay?.stop()
    redis?.disconnect()
    await runtime.close()
  })

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  // Registered once the port is known (PORT=0 picks one): the console signs in as this public client.
  const port = Number(new URL(address).port)
  const wanted = consoleRedirectUris(config.PUBLIC_URL, { host: config.HOST, port })
  if (wanted.refused.length > 0) logger.warn({ refused: wanted.refused }, 'console sign-in unavailable at these addresses: set PUBLIC_URL to an https URL')
  const applications = createApplicationService({ db: runtime.db, secretsKey, previousSecretsKey: config.SECRETS_KEY_PREVIOUS ? deriveSecretsKey(config.SECRETS_KEY_PREVIOUS) : undefined })
  consoleUris = await registerConsoleClient(applications, wanted.uris)
  process.stdout.write(loginBanner({ address, mode: runtime.db.kind, dataDir: runtime.dataDir, demo, consoleUrl: wanted.uris[0] }))
}

function readDemoCredentials (dataDir: string | null): DemoCredentials | undefined {
  const file = dataDir ? join(dataDir, 'demo-credentials.json') : undefined
  if (!file || !existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials
  } catch {
    // A damaged credentials file only costs the start-up hint; the demo accounts themselves are in the database.
    return undefined
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof SecretsKeyError) {
    process.stderr.write(`massprov: ${err.message}\n`)
  } else {
    process.stderr.write(`massprov: failed to start: ${(err as Error).stack ?? String(err)}\n`)
  }
  process.exit(1)
})
