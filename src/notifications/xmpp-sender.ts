import { client, xml, type Element, type XmppClient } from '@xmpp/client'
import type { Logger } from 'pino'

export interface XmppSettings {
  /** xmpp://host:port (STARTTLS when the server offers it) or xmpps://host:port (direct TLS). */
  service: string
  domain: string
  username: string
  password: string
}

/** The server refused the service account's credentials: retrying soon will not help, an operator must act. */
export class XmppAuthError extends Error {
  override name = 'XmppAuthError'
}

export interface XmppSender {
  readonly online: boolean
  readonly jid: string
  /**
   * Sends the stanzas in order, then waits for the answer to a ping sent after them. The server
   * handles a client's stanzas in order, so once it answers the ping it has taken every message
   * before it (delivered it, or stored it offline for the recipient). Any answer counts, even an
   * error: a server without XEP-0199 still answers the iq in order.
   */
  sendConfirmed (stanzas: readonly Element[], timeoutMs: number): Promise<void>
  close (): Promise<void>
}

const PING_NS = 'urn:xmpp:ping'

function authFailure (err: unknown): boolean {
  const e = err as { name?: string, condition?: string }
  return e.name === 'SASLError' || e.condition === 'not-authorized' || e.condition === 'account-disabled' || e.condition === 'credentials-expired'
}

async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** One login of the service account; a lost connection is not resumed here: the relay connects anew. */
export async function connectXmpp (settings: XmppSettings, logger: Logger, timeoutMs = 10_000): Promise<XmppSender> {
  const jid = `${settings.username}@${settings.domain}`
  const xmpp: XmppClient = client({ service: settings.service, domain: settings.domain, username: settings.username, password: settings.password, resource: `massprov-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, timeout: timeoutMs })
  // The relay owns reconnection (with its own backoff), so a dead stream never resends on its own.
  xmpp.reconnect.stop()
  let online = false
  let lastError: Error | undefined
  xmpp.on('error', (err) => { lastError = err })
  xmpp.on('offline', () => { online = false })
  xmpp.on('disconnect', () => { online = false })
  xmpp.on('stanza', (stanza) => {
    // A bounce: the server took the message but could not route it (unknown user, ...).
    if (stanza.name === 'message' && stanza.attrs.type === 'error') {
      const condition = stanza.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name
      logger.warn({ id: stanza.attrs.id, to: stanza.attrs.from, condition }, 'XMPP server bounced a notification')
    }
  })

  try {
    await within(timeoutMs, `XMPP login to ${settings.service}`, xmpp.start())
  } catch (err) {
    // The login's failure is what is reported below; a stop of a half-open client failing adds nothing.
    await xmpp.stop().catch(() => {})
    const cause = lastError && authFailure(lastError) ? lastError : err
    if (authFailure(cause)) {
      const condition = (cause as { condition?: string }).condition ?? 'refused'
      throw new XmppAuthError(`XMPP login refused for ${jid} at ${settings.service} (${condition}): check XMPP_USERNAME, XMPP_PASSWORD and XMPP_DOMAIN`)
    }
    throw new Error(`cannot reach XMPP server ${settings.service} as ${jid}: ${(cause as Error).message || String(cause)}`, { cause })
  }
  online = true

  return {
    get online () { return online && xmpp.status === 'online' },
    jid,
    async sendConfirmed (stanzas, ms) {
      if (!online) throw new Error('XMPP connection is not online')
      for (const s of stanzas) await xmpp.send(s)
      try {
        await xmpp.iqCaller.request(xml('iq', { type: 'get', to: settings.domain }, xml('ping', { xmlns: PING_NS })), ms)
      } catch (err) {
        if ((err as { name?: string }).name !== 'StanzaError') throw err
      }
    },
    async close () {
      online = false
      // Closing: a server already gone or slow to answer leaves nothing to release.
      await within(timeoutMs, 'XMPP close', xmpp.stop()).catch(() => {})
    },
  }
}
