import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { client, xml, type Element, type XmppClient } from '@xmpp/client'
import { reachedLeg } from './legs.js'

export const XMPP_TEST_DOMAIN = 'localhost'

/** In CI a missing prosody fails the run; locally the XMPP suites may skip. */
export function prosodyAvailable (): boolean {
  const found = spawnSync('prosodyctl', ['about'], { stdio: 'ignore' }).status === 0
  if (!found && process.env.CI === 'true') {
    throw new Error('CI=true but prosody is not installed (apt-get install -y prosody): the XMPP suites would be skipped')
  }
  return found
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

async function answers (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

export interface Prosody {
  port: number
  service: string
  domain: string
  register (user: string, password: string): void
  start (): Promise<void>
  /** SIGTERM, then waits for the port to close; accounts and offline messages stay in the data directory. */
  stop (): Promise<void>
  /** Stops and removes every file. */
  destroy (): Promise<void>
}

/**
 * A throwaway prosody on loopback with its own port and data directory. One SCRAM iteration keeps
 * each login at ~20 ms (the client's SCRAM runs in JavaScript); TLS is off, which is acceptable
 * only on loopback.
 */
export async function startProsody (): Promise<Prosody> {
  const dir = mkdtempSync(join(tmpdir(), 'massprov-prosody-'))
  mkdirSync(join(dir, 'data'))
  const port = await freePort()
  const config = join(dir, 'prosody.cfg.lua')
  writeFileSync(config, `
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}"
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_disabled = { "tls" }
modules_enabled = { "disco"; "roster"; "saslauth"; "ping"; "offline"; "smacks"; "posix" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
default_iteration_count = 1
log = { error = "${dir}/prosody.log" }
VirtualHost "${XMPP_TEST_DOMAIN}"
`)
  let child: ChildProcess | undefined

  const p: Prosody = {
    port,
    service: `xmpp://127.0.0.1:${port}`,
    domain: XMPP_TEST_DOMAIN,
    register (user, password) {
      const r = spawnSync('prosodyctl', ['--config', config, 'register', user, XMPP_TEST_DOMAIN, password], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`prosodyctl register ${user} failed: ${r.stderr}${r.stdout}`)
    },
    async start () {
      if (child) return
      child = spawn('prosody', ['--config', config, '-F'], { stdio: 'ignore' })
      const started = child
      started.once('exit', () => { if (child === started) child = undefined })
      for (let i = 0; i < 100; i++) {
        if (await answers(port)) {
          reachedLeg('xmpp')
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`prosody did not listen on ${port} within 5 s`)
    },
    async stop () {
      const running = child
      if (!running) return
      child = undefined
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGTERM')
      await exited
      for (let i = 0; i < 100 && await answers(port); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    },
    async destroy () {
      await p.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await p.start()
  return p
}

export interface Receiver {
  /** Every management message received, in order. */
  messages: Element[]
  /** Resolves with the first message matching (already received or to come). */
  waitFor (match: (m: Element) => boolean, timeoutMs?: number): Promise<Element>
  stop (): Promise<void>
}

/** A connector-like client: logs in as the admin and sends presence, so messages arrive live rather than offline. */
export async function connectReceiver (prosody: Pick<Prosody, 'service' | 'domain'>, username: string, password: string): Promise<Receiver> {
  const xmpp: XmppClient = client({ service: prosody.service, domain: prosody.domain, username, password, resource: 'connector' })
  xmpp.reconnect.stop()
  xmpp.on('error', () => {})
  const messages: Element[] = []
  const waiters: Array<{ match: (m: Element) => boolean, resolve: (m: Element) => void }> = []
  xmpp.on('stanza', (s) => {
    if (s.name !== 'message' || s.attrs.type !== 'management') return
    messages.push(s)
    for (const w of [...waiters]) {
      if (w.match(s)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(s)
      }
    }
  })
  await xmpp.start()
  await xmpp.send(xml('presence'))
  return {
    messages,
    waitFor (match, timeoutMs = 15_000) {
      const seen = messages.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (m: Element) => { clearTimeout(timer); resolve(m) } }
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1)
          reject(new Error(`no matching XMPP message within ${timeoutMs} ms; got ${messages.map(String).join('\n')}`))
        }, timeoutMs)
        waiters.push(w)
      })
    },
    async stop () {
      await xmpp.stop().catch(() => {})
    },
  }
}

export function commandEndedOf (m: Element): string | undefined {
  return m.getChild('command_ended', 'jabber:iq:configuration')?.attrs.commandId
}
