/**
 * src/notifications: what Rainbow clients are told over XMPP. Commands and import progress are
 * written to the transactional outbox (db/outbox-repository.ts) in the same transaction as the
 * change; this relay delivers them at least once with a stable stanza id (stanzas.ts,
 * xmpp-sender.ts). It imports db and provisioning; the entries (server.ts, worker.ts) start the
 * relay and routes record commands through commands.ts.
 */
import type { Logger } from 'pino'
import type { Db } from '../db/db.js'
import { claimOwed, countOwed, markSent, releaseFailed, releaseUnattempted } from '../db/outbox-repository.js'
import { stanzaFor } from './stanzas.js'
import { emitProgress } from './progress.js'
import { connectXmpp, XmppAuthError, type XmppSender, type XmppSettings } from './xmpp-sender.js'

export interface RelayOptions {
  /** How often due rows and progress are looked for while connected. */
  pollMs: number
  batchSize: number
  /** A claimed row is hidden from other relays this long; longer than any send may take. */
  leaseSeconds: number
  sendTimeoutMs: number
  /** Per row, after a failed send: base·2^(attempts-1) seconds, capped. */
  rowBackoff: { baseSeconds: number, maxSeconds: number }
  /** Between two login attempts while the server is unreachable or refuses the account. */
  connectBackoff: { baseMs: number, maxMs: number }
  progressIntervalSeconds: number
}

export interface OutboxRelayDeps {
  db: Db
  logger: Logger
  /** Without settings the relay is idle: rows wait in the outbox. */
  xmpp: XmppSettings | undefined
  options?: Partial<RelayOptions>
  /** Tests replace the login; production uses @xmpp/client. */
  connect?: (settings: XmppSettings, logger: Logger) => Promise<XmppSender>
}

export interface RelayStatus { state: 'idle' | 'connecting' | 'online' | 'retrying' | 'stopped', jid?: string, lastError?: string, retryAt?: Date }

export interface OutboxRelay {
  stop (): Promise<void>
  status (): RelayStatus
  /** A readiness entry: never fails the probe (the API works while notifications wait), says what the relay is doing. */
  readiness: { name: string, check: () => Promise<string> }
}

const DEFAULTS: RelayOptions = {
  pollMs: 1000,
  batchSize: 50,
  leaseSeconds: 60,
  sendTimeoutMs: 10_000,
  rowBackoff: { baseSeconds: 2, maxSeconds: 300 },
  connectBackoff: { baseMs: 1000, maxMs: 60_000 },
  progressIntervalSeconds: 10,
}

export function xmppSettingsFromConfig (c: { XMPP_SERVICE?: string | undefined, XMPP_USERNAME?: string | undefined, XMPP_PASSWORD?: string | undefined, XMPP_DOMAIN: string }): XmppSettings | undefined {
  if (!c.XMPP_SERVICE || !c.XMPP_USERNAME || !c.XMPP_PASSWORD) return undefined
  return { service: c.XMPP_SERVICE, domain: c.XMPP_DOMAIN, username: c.XMPP_USERNAME, password: c.XMPP_PASSWORD }
}

/**
 * Delivers the outbox over XMPP: logs in the service account, and while online claims due rows,
 * sends them, confirms with a round trip and only then marks them sent. Unreachable server or
 * refused login: rows stay owed and the login is retried with capped exponential backoff.
 */
export function startOutboxRelay (deps: OutboxRelayDeps): OutboxRelay {
  const o: RelayOptions = { ...DEFAULTS, ...deps.options }
  const { db, logger } = deps
  const log = logger.child({ component: 'outbox-relay' })
  let status: RelayStatus = { state: deps.xmpp ? 'connecting' : 'idle' }
  const life = { stopped: false }
  let sender: XmppSender | undefined
  let wake: (() => void) | undefined

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done () { clearTimeout(timer); wake = undefined; resolve() }
    wake = done
  })

  async function login (settings: XmppSettings, failures: number): Promise<number> {
    status = { ...status, state: 'connecting' }
    try {
      sender = await (deps.connect ?? connectXmpp)(settings, log)
      status = { state: 'online', jid: sender.jid }
      log.info({ jid: sender.jid, service: settings.service }, 'XMPP relay online')
      return 0
    } catch (err) {
      const delay = Math.min(o.connectBackoff.maxMs, o.connectBackoff.baseMs * 2 ** failures)
      // Only a figure for the log line below; the database's own trouble is reported where it is used.
      const owed = await countOwed(db).catch(() => undefined)
      const message = (err as Error).message
      status = { state: 'retrying', lastError: message, retryAt: new Date(Date.now() + delay) }
      const fields = { service: settings.service, owed, retryInMs: delay }
      if (err instanceof XmppAuthError) log.error(fields, `${message}; notifications keep waiting in the outbox`)
      else log.warn(fields, `${message}; notifications keep waiting in the outbox`)
      await sleep(delay)
      return failures + 1
    }
  }

  async function deliverBatch (s: XmppSender): Promise<number> {
    const rows = await claimOwed(db, o.batchSize, o.leaseSeconds)
    if (rows.length === 0) return 0
    const sendable = []
    for (const row of rows) {
      try {
        sendable.push({ row, stanza: stanzaFor(row) })
      } catch (err) {
        log.error({ id: row.id, err }, 'outbox row cannot be turned into a stanza')
        await releaseFailed(db, [row.id], `invalid payload: ${(err as Error).message}`, o.rowBackoff)
      }
    }
    const ids = sendable.map((x) => x.row.id)
    if (!s.online) {
      await releaseUnattempted(db, ids)
      return 0
    }
    try {
      await s.sendConfirmed(sendable.map((x) => x.stanza), o.sendTimeoutMs)
    } catch (err) {
      log.warn({ err, count: ids.length }, 'XMPP send not confirmed; the rows will be retried')
      await releaseFailed(db, ids, (err as Error).message, o.rowBackoff)
      return 0
    }
    await markSent(db, ids)
    log.debug({ ids }, 'notifications sent')
    return rows.length
  }

  async function run (settings: XmppSettings): Promise<void> {
    let failures = 0
    while (!life.stopped) {
      try {
        if (!sender?.online) {
          if (sender) {
            log.warn('XMPP connection lost; logging in again')
            await sender.close()
            sender = undefined
          }
          failures = await login(settings, failures)
          continue
        }
        await emitProgress(db, log, o.progressIntervalSeconds)
        if (await deliverBatch(sender) === o.batchSize) continue
      } catch (err) {
        // The database may be restarting: the rows are safe there; try again on the next turn.
        log.error({ err }, 'outbox relay turn failed')
      }
      if (!life.stopped) await sleep(o.pollMs)
    }
  }

  let loop: Promise<void> = Promise.resolve()
  if (deps.xmpp) loop = run(deps.xmpp)
  else log.info('XMPP relay idle (XMPP_SERVICE and its service account are not configured): notifications wait in the outbox')

  return {
    status: () => status,
    readiness: {
      name: 'xmpp',
      async check () {
        const owed = await countOwed(db)
        const waiting = `${owed} notification${owed === 1 ? '' : 's'} waiting`
        switch (status.state) {
          case 'idle': return `idle (XMPP_SERVICE, XMPP_USERNAME, XMPP_PASSWORD not set): ${waiting}`
          case 'online': return `online as ${status.jid}: ${waiting}`
          case 'retrying': return `offline, next login at ${status.retryAt?.toISOString()} (${status.lastError}): ${waiting}`
          default: return `${status.state}: ${waiting}`
        }
      },
    },
    async stop () {
      life.stopped = true
      wake?.()
      await loop
      await sender?.close()
      sender = undefined
      status = { state: 'stopped' }
    },
  }
}
