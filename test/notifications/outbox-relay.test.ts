import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Element } from '@xmpp/client'
import { listOutbox } from '../../src/db/outbox-repository.js'
import { runImport } from '../../src/jobs/import-job.js'
import { startOutboxRelay, type OutboxRelay, type RelayOptions } from '../../src/notifications/outbox-relay.js'
import { newId } from '../../src/util/ids.js'
import { bearer, login, type TestApp } from '../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { commandEndedOf, connectReceiver, prosodyAvailable, startProsody, type Prosody, type Receiver } from '../helpers/prosody.js'
import { report } from '../helpers/reliability.js'
import { buildImportApp, MP } from '../jobs/helpers/import-app.js'

// The relay against a real XMPP server (prosody on loopback), with a connector-like client logged
// in as the admin: what it receives, how often, across outages, restarts and bad credentials.

const SERVICE_USER = 'massprov-svc'
const SERVICE_PASSWORD = 'svc-Passw0rd'
const CONNECTOR_PASSWORD = 'conn-Passw0rd'
const FAST: Partial<RelayOptions> = {
  pollMs: 100,
  connectBackoff: { baseMs: 100, maxMs: 400 },
  rowBackoff: { baseSeconds: 0.2, maxSeconds: 1 },
  progressIntervalSeconds: 0.4,
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until (what: string, ok: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await sleep(50)
  }
}

function importStatusOf (m: Element) {
  const s = m.getChild('import_status', 'jabber:iq:configuration')
  return s ? { reqId: s.attrs.reqId, seq: Number(s.attrs.seq), status: s.attrs.status, succeeded: Number(s.attrs.succeeded), failed: Number(s.attrs.failed), warnings: Number(s.attrs.warnings), total: Number(s.attrs.total) } : undefined
}

describe.skipIf(!prosodyAvailable())('outbox relay through prosody', () => {
  let prosody: Prosody

  beforeAll(async () => {
    prosody = await startProsody()
    prosody.register(SERVICE_USER, SERVICE_PASSWORD)
  })
  afterAll(async () => {
    await prosody?.destroy()
  })

  describe.each(dbKinds())('on %s', (kind) => {
    let tdb: TestDb
    let app: TestApp
    let world: World
    let token = ''
    let receiver: Receiver
    const relays: OutboxRelay[] = []
    const logs: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(line) } })

    beforeAll(async () => {
      tdb = await openTestDb(kind)
      world = await createWorld(tdb.db)
      app = (await buildImportApp(tdb.db, { queue: false })).app
      token = await login(app, world.adminA.email, PASSWORD)
      // The admin's JID is <userId>@localhost: the connector logs in as that account.
      prosody.register(world.adminA.id, CONNECTOR_PASSWORD)
      receiver = await connectReceiver(prosody, world.adminA.id, CONNECTOR_PASSWORD)
    })
    afterAll(async () => {
      for (const r of relays) await r.stop()
      await receiver?.stop()
      await app?.close()
      await tdb?.close()
    })

    const relay = (password = SERVICE_PASSWORD, options: Partial<RelayOptions> = {}) => {
      const r = startOutboxRelay({
        db: tdb.db, logger, xmpp: { service: prosody.service, domain: prosody.domain, username: SERVICE_USER, password }, options: { ...FAST, ...options },
      })
      relays.push(r)
      return r
    }
    const postReport = (commandId: string) => app.inject({
      method: 'POST', url: `${MP}/users/imports/synchronize/${commandId}/report`, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: { status: 'success', details: 'done' },
    })
    const sync = (body: string, query: string) => app.inject({
      method: 'POST', url: `${MP}/users/imports/synchronize?${query}`, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: body,
    })
    const received = (commandId: string) => receiver.messages.filter((m) => commandEndedOf(m) === commandId)
    const sentAt = async (commandId: string) => (await listOutbox(tdb.db, 'command_ended')).filter((r) => r.payload.commandId === commandId).map((r) => r.sentAt)
    const csv = (n: number) => ['__action__;loginEmail;firstName', ...Array.from({ length: n }, (_, i) => `upsert;p${i}-${newId()}@example.com;P${i}`)].join('\n') + '\n'

    it('the four ways a command ends each reach the connector once: check, synchronize that terminates, synchronize refused, POSTed report', async () => {
      const check = await app.inject({
        method: 'POST', url: `${MP}/users/imports/synchronize/check?commandId=p-check-${kind}`, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: csv(2),
      })
      expect(check.statusCode).toBe(200)
      const accepted = await sync(csv(3), `commandId=p-sync-${kind}`)
      expect(accepted.statusCode).toBe(200)
      await runImport({ db: tdb.db, logger: pino({ level: 'silent' }), xmppDomain: 'localhost', chunkSize: 2 }, accepted.json().data.reqId)
      expect((await sync('__action__;loginEmail;favouriteColour\nupsert;a@example.com;blue\n', `commandId=p-refused-${kind}`)).statusCode).toBe(400)
      expect((await postReport(`p-post-${kind}`)).statusCode).toBe(200)

      const r = relay()
      const ids = ['p-check', 'p-sync', 'p-refused', 'p-post'].map((p) => `${p}-${kind}`)
      for (const id of ids) await receiver.waitFor((m) => commandEndedOf(m) === id)

      // Repeats that must not notify again, and time for any duplicate to show up.
      expect((await postReport(`p-post-${kind}`)).statusCode).toBe(200)
      expect((await sync('__action__;loginEmail\n', `commandId=p-refused-${kind}`)).statusCode).toBe(400)
      await sleep(1000)
      for (const id of ids) expect(received(id), id).toHaveLength(1)

      const stanza = received(`p-post-${kind}`)[0]!
      const row = (await listOutbox(tdb.db, 'command_ended')).find((x) => x.payload.commandId === `p-post-${kind}`)!
      expect(stanza.attrs).toMatchObject({ type: 'management', id: `massprov-${row.id}`, to: `${world.adminA.id}@localhost` })
      expect(stanza.attrs.from).toMatch(new RegExp(`^${SERVICE_USER}@localhost/`))
      expect(stanza.getChild('command_ended')?.attrs).toEqual({ commandId: `p-post-${kind}`, xmlns: 'jabber:iq:configuration' })
      for (const id of ids) expect((await sentAt(id)).every((s) => s instanceof Date)).toBe(true)
      expect(await r.readiness.check()).toMatch(/^online as massprov-svc@localhost: 0 notifications waiting$/)
      await r.stop()
    })

    it('XMPP server down when the command ends: the row waits, and is delivered once when the server is back', async ({ task }) => {
      const r = relay()
      await until('relay online', () => r.status().state === 'online')
      await receiver.stop()
      const down = Date.now()
      await prosody.stop()
      expect((await postReport(`o-1-${kind}`)).statusCode).toBe(200)
      await until('relay retrying', () => r.status().state === 'retrying')
      await sleep(800)
      const waiting = await sentAt(`o-1-${kind}`)
      expect(waiting).toEqual([null])
      expect(await r.readiness.check()).toMatch(/^offline, next login at .*ECONNREFUSED.*: 1 notification waiting$/)

      const up = Date.now()
      await prosody.start()
      receiver = await connectReceiver(prosody, world.adminA.id, CONNECTOR_PASSWORD)
      await receiver.waitFor((m) => commandEndedOf(m) === `o-1-${kind}`)
      const deliveredMs = Date.now() - up
      await sleep(800)
      expect(received(`o-1-${kind}`)).toHaveLength(1)
      report(task, { outageMs: up - down, waiting: waiting.length, deliveredMs, delivered: received(`o-1-${kind}`).length })
      expect((await sentAt(`o-1-${kind}`))[0]).toBeInstanceOf(Date)
      await r.stop()
    })

    it('a relay restarted after a send does not send the row again', async () => {
      const first = relay()
      expect((await postReport(`r-1-${kind}`)).statusCode).toBe(200)
      await receiver.waitFor((m) => commandEndedOf(m) === `r-1-${kind}`)
      await until('marked sent', async () => (await sentAt(`r-1-${kind}`))[0] instanceof Date)
      await first.stop()
      const second = relay()
      await until('second relay online', () => second.status().state === 'online')
      await sleep(800)
      expect(received(`r-1-${kind}`)).toHaveLength(1)
      await second.stop()
    })

    it('bad credentials: a clear error in the log, the rows kept; the right password then delivers them once', async () => {
      logs.length = 0
      const bad = relay('wrong-password')
      expect((await postReport(`b-1-${kind}`)).statusCode).toBe(200)
      await until('login refused in the log', () => logs.some((l) => l.includes('XMPP login refused')))
      const line = JSON.parse(logs.find((l) => l.includes('XMPP login refused'))!) as { level: number, msg: string }
      expect(line.level).toBe(50)
      expect(line.msg).toMatch(/XMPP login refused for massprov-svc@localhost .*not-authorized.*check XMPP_USERNAME, XMPP_PASSWORD/)
      await sleep(500)
      const [row] = (await listOutbox(tdb.db, 'command_ended')).filter((x) => x.payload.commandId === `b-1-${kind}`)
      expect(row).toMatchObject({ sentAt: null, attempts: 0 })
      expect(received(`b-1-${kind}`)).toHaveLength(0)
      expect(await bad.readiness.check()).toMatch(/not-authorized/)
      await bad.stop()

      const good = relay()
      await receiver.waitFor((m) => commandEndedOf(m) === `b-1-${kind}`)
      await sleep(500)
      expect(received(`b-1-${kind}`)).toHaveLength(1)
      await good.stop()
    })

    it('a running synchronize with commandId sends import_status progress, then a final one with the counters', async () => {
      const accepted = await sync(csv(6), `commandId=g-1-${kind}`)
      const reqId = accepted.json().data.reqId as string
      const r = relay()
      const progress = () => receiver.messages.map(importStatusOf).filter((s) => s?.reqId === reqId)
      // Not started yet: the first message says Pending with nothing processed.
      await receiver.waitFor((m) => importStatusOf(m)?.reqId === reqId)
      expect(progress()[0]).toEqual({ reqId, seq: 1, status: 'Pending', succeeded: 0, failed: 0, warnings: 0, total: 6 })

      await runImport({ db: tdb.db, logger: pino({ level: 'silent' }), xmppDomain: 'localhost', chunkSize: 2 }, reqId)
      await receiver.waitFor((m) => importStatusOf(m)?.reqId === reqId && importStatusOf(m)?.status === 'Terminated')
      await receiver.waitFor((m) => commandEndedOf(m) === `g-1-${kind}`)
      await sleep(800)
      const all = progress()
      expect(all.map((s) => s!.seq)).toEqual(all.map((_, i) => i + 1))
      expect(all.at(-1)).toEqual({ reqId, seq: all.length, status: 'Terminated', succeeded: 6, failed: 0, warnings: 0, total: 6 })
      expect(all.filter((s) => s!.status === 'Terminated')).toHaveLength(1)
      expect(received(`g-1-${kind}`)).toHaveLength(1)
      await r.stop()
    })

    it('progress is throttled: at most one import_status per interval while the counters move', async () => {
      const accepted = await sync(csv(40), `commandId=g-2-${kind}`)
      const reqId = accepted.json().data.reqId as string
      const r = relay(SERVICE_PASSWORD, { progressIntervalSeconds: 0.5 })
      // The counters move every 50 ms for about 2 s (as a chunked import would), then the import ends.
      for (let i = 0; i < 40; i++) {
        await tdb.db.query('UPDATE imports SET processed = processed + 1, succeeded = succeeded + 1 WHERE req_id = $1', [reqId])
        await sleep(50)
      }
      await tdb.db.query("UPDATE imports SET status = 'Terminated', end_time = now() WHERE req_id = $1", [reqId])
      await receiver.waitFor((m) => importStatusOf(m)?.reqId === reqId && importStatusOf(m)?.status === 'Terminated')
      const pending = receiver.messages.map(importStatusOf).filter((s) => s?.reqId === reqId && s.status === 'Pending')
      expect(pending.length).toBeGreaterThanOrEqual(2)
      // When each was owed, by the database's clock: never two within the interval.
      const owed = await tdb.db.query<{ at: number }>(
        "SELECT extract(epoch FROM created_at)::float8 AS at FROM outbox WHERE kind = 'import_status' AND payload->>'reqId' = $1 AND payload->>'status' = 'Pending' ORDER BY created_at", [reqId])
      expect(owed).toHaveLength(pending.length)
      for (let i = 1; i < owed.length; i++) expect(owed[i]!.at - owed[i - 1]!.at).toBeGreaterThanOrEqual(0.5)
      await r.stop()
    })

    if (kind === 'postgres') {
      it('two relays at once never send one row twice', async () => {
        const ids = Array.from({ length: 30 }, (_, i) => `t-${i}-${kind}`)
        for (const id of ids) expect((await postReport(id)).statusCode).toBe(200)
        const a = relay(SERVICE_PASSWORD, { batchSize: 3 })
        const b = relay(SERVICE_PASSWORD, { batchSize: 3 })
        for (const id of ids) await receiver.waitFor((m) => commandEndedOf(m) === id)
        await sleep(800)
        for (const id of ids) expect(received(id), id).toHaveLength(1)
        await Promise.all([a.stop(), b.stop()])
      })
    }
  })
})
