import type { AddressInfo } from 'node:net'
import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, login, type TestApp } from '../helpers/app.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { closedWithin, rawClient, requestHead, until, type RawClient } from '../helpers/raw-http.js'
import { report } from '../helpers/reliability.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const CHECK = `${MP}/users/imports/check`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function userCsv (lines: number, tag: string): string {
  const rows = ['__action__;loginEmail;password;firstName;lastName']
  for (let i = 0; i < lines; i++) rows.push(`create;u${i}-${tag}@example.com;Passw0rd!x;First${i};Last${i}`)
  return rows.join('\n') + '\n'
}

async function listen (app: TestApp): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

describe('connection limits on a listening server', () => {
  let tdb: TestDb
  let world: World

  beforeAll(async () => {
    tdb = await openTestDb('pglite')
    world = await createWorld(tdb.db)
  })
  afterAll(async () => { await tdb?.close() })

  describe('check slots when clients hang up', () => {
    const SLOTS = 2
    let app: TestApp
    let port: number
    let token: string
    /** The server's side of each connection, by the client's port, to see whether an answer had finished. */
    const answers = new Map<number, ServerResponse>()

    beforeAll(async () => {
      app = await buildTestApp(tdb.db, { MAX_CONCURRENT_CHECKS: SLOTS, MAX_QUEUED_CHECKS: 50, CHECK_QUEUE_TIMEOUT: 5 })
      app.server.on('request', (req, res: ServerResponse) => { answers.set(req.socket.remotePort ?? 0, res) })
      port = await listen(app)
      token = await login(app, world.adminA.email, PASSWORD)
    })
    afterAll(async () => { await app?.close() })

    /** Headers and the first bytes of a body that never comes: the check holds a slot, or waits for one. */
    async function stalledUpload (): Promise<RawClient> {
      const client = await rawClient(port)
      client.socket.write(requestHead('POST', CHECK, { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': 100_000 }))
      client.socket.write('__action__;loginEmail;password\n')
      return client
    }

    async function kill (clients: RawClient[]): Promise<void> {
      for (const c of clients) c.socket.destroy()
      await Promise.all(clients.map((c) => c.closed))
      // The server sees the hang-ups on its next turns of the event loop.
      await sleep(100)
    }

    it('every slot is free again after 30 clients hang up while queued, while uploading and while receiving the answer', async ({ task }) => {
      // Queued: both slots held by stalled uploads, ten complete checks wait behind them, then leave.
      const holders = [await stalledUpload(), await stalledUpload()]
      await sleep(400)
      expect(app.checkSlots).toMatchObject({ running: SLOTS, queued: 0 })
      const body = userCsv(5, 'queued')
      const queued: RawClient[] = []
      for (let i = 0; i < 10; i++) {
        const c = await rawClient(port)
        c.socket.write(requestHead('POST', CHECK, { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': Buffer.byteLength(body) }) + body)
        queued.push(c)
      }
      await until(() => app.checkSlots.queued === 10, 5000, 'ten queued checks')
      await kill(queued)
      expect(app.checkSlots).toMatchObject({ running: SLOTS, queued: 0 })

      // Uploading: the two holders, then four more pairs, hang up half-way through their bodies.
      await kill(holders)
      let uploading = holders.length
      for (let round = 0; round < 4; round++) {
        const pair = [await stalledUpload(), await stalledUpload()]
        await until(() => app.checkSlots.running === SLOTS, 5000, 'both slots taken')
        await kill(pair)
        uploading += pair.length
      }
      expect(app.checkSlots).toMatchObject({ running: 0, queued: 0 })

      // Receiving: the clients read nothing of a 4.5 MB answer, more than the socket buffers take, so it is
      // still being sent when they leave; two at a time, one per slot.
      const big = userCsv(30_000, 'big')
      let cutMidAnswer = 0
      for (let round = 0; round < 5; round++) {
        const pair = await Promise.all(Array.from({ length: SLOTS }, async () => {
          const c = await rawClient(port, { read: false })
          c.socket.write(requestHead('POST', CHECK, { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': Buffer.byteLength(big) }) + big)
          return c
        }))
        const ports = pair.map((c) => c.socket.localPort ?? -1)
        await until(() => ports.every((p) => answers.get(p)?.headersSent === true), 30_000, 'the answers to start')
        await sleep(100)
        cutMidAnswer += ports.filter((p) => answers.get(p)?.writableFinished === false).length
        await kill(pair)
      }
      expect(cutMidAnswer).toBe(10)
      await until(() => app.checkSlots.running === 0, 2000, 'the slots of the receivers')
      expect(app.checkSlots).toMatchObject({ running: 0, queued: 0 })

      // And the proof by use: as many checks as there are slots run at once, none waits out its 5 s.
      const started = Date.now()
      const after = await Promise.all(Array.from({ length: SLOTS }, () =>
        app.inject({ method: 'POST', url: CHECK, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: userCsv(5, 'after') })))
      expect(after.map((a) => a.statusCode)).toEqual(Array(SLOTS).fill(200))
      expect(Date.now() - started).toBeLessThan(4000)
      report(task, { killedQueued: queued.length, killedUploading: uploading, killedReceiving: 10, cutMidAnswer, slotsHeldAfter: app.checkSlots.running, waitingAfter: app.checkSlots.queued })
    }, 120_000)
  })

  describe('time limits', () => {
    let app: TestApp
    let port: number
    let token: string

    beforeAll(async () => {
      app = await buildTestApp(tdb.db, {
        HEADERS_TIMEOUT: 1,
        REQUEST_TIMEOUT: 3,
        BODY_TIMEOUT: 1,
        KEEP_ALIVE_TIMEOUT: 1,
        CHECK_QUEUE_TIMEOUT: 2,
        MAX_CONCURRENT_CHECKS: 1,
        MAX_QUEUED_CHECKS: 0,
      })
      port = await listen(app)
      token = await login(app, world.adminA.email, PASSWORD)
    })
    afterAll(async () => { await app?.close() })

    it('slow headers: the connection is closed with a 408 in the Rainbow envelope after HEADERS_TIMEOUT', async ({ task }) => {
      const client = await rawClient(port)
      client.socket.write(`POST ${CHECK} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n`)
      const closed = await closedWithin(client, 5000)
      expect(closed).not.toBe('open')
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /)
      expect(client.received()).toMatch(/"errorCode":408/)
      report(task, { headersTimeoutS: 1, closedAfterMs: closed === 'open' ? -1 : closed.afterMs })
    })

    it('a body that stops: 408 in the Rainbow envelope and the connection closed after BODY_TIMEOUT; the check slot is free again', async ({ task }) => {
      const client = await rawClient(port)
      client.socket.write(requestHead('POST', CHECK, { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': 1000 }) + '__action__')
      await sleep(300)
      // The stalled check holds the only slot meanwhile.
      const busy = await app.inject({ method: 'POST', url: CHECK, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: userCsv(2, 'busy') })
      expect(busy.statusCode).toBe(503)
      const closed = await closedWithin(client, 5000)
      expect(closed).not.toBe('open')
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /)
      expect(client.received()).toMatch(/"errorDetailsCode":408000/)
      expect(app.checkSlots).toMatchObject({ running: 0, queued: 0 })
      const after = await app.inject({ method: 'POST', url: CHECK, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: userCsv(2, 'after-body') })
      expect(after.statusCode).toBe(200)
      report(task, { bodyTimeoutS: 1, closedAfterMs: closed === 'open' ? -1 : closed.afterMs })
    })

    it('a body that trickles (a byte every 250 ms, never idle for BODY_TIMEOUT): closed after REQUEST_TIMEOUT; the check slot is free again', async ({ task }) => {
      const client = await rawClient(port)
      client.socket.write(requestHead('POST', CHECK, { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': 1000 }))
      const drip = setInterval(() => { if (client.socket.writable) client.socket.write('x') }, 250)
      try {
        const closed = await closedWithin(client, 7000)
        expect(closed).not.toBe('open')
        if (closed !== 'open') expect(closed.afterMs).toBeGreaterThanOrEqual(2500)
        expect(client.received()).toMatch(/^HTTP\/1\.1 408 /)
        report(task, { requestTimeoutS: 3, closedAfterMs: closed === 'open' ? -1 : closed.afterMs })
      } finally {
        clearInterval(drip)
      }
      await sleep(100)
      expect(app.checkSlots).toMatchObject({ running: 0, queued: 0 })
    })

    it('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT', async ({ task }) => {
      const client = await rawClient(port)
      client.socket.write(requestHead('GET', '/health', {}))
      await until(() => client.received().includes('\r\n\r\n'), 2000, 'the /health answer')
      expect(client.received()).toMatch(/^HTTP\/1\.1 200 /)
      const closed = await closedWithin(client, 4000)
      expect(closed).not.toBe('open')
      report(task, { keepAliveTimeoutS: 1, closedAfterMs: closed === 'open' ? -1 : closed.afterMs })
    })
  })
})
