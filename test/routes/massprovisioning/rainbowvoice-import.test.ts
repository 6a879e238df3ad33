import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PlanCodes } from '../../../src/provisioning/codes.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { buildImportApp, MP, type ImportApp } from '../../jobs/helpers/import-app.js'
import { giveCloudPbx, voiceOf } from '../../helpers/voice.js'

const HEADER = '__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;firstName;service0'

interface ReportLine { lineNumber: number, action: string, status: string, userId?: string, errorCode?: number, errorMsg?: string, line?: string }
interface Details { reqId: string, mode: string, status: string, counters: Record<string, number>, report: ReportLine[], profiles?: unknown, subscriberReport?: unknown, sipDeviceReport?: unknown, ddiReport?: unknown }

describe.each(dbKinds())('POST /users/imports/rainbowvoice on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  let world: World
  let token = ''

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    ia = await buildImportApp(tdb.db, { chunkSize: 2 })
    world = await createWorld(tdb.db)
    token = await login(ia.app, world.adminA.email, PASSWORD)
    await giveCloudPbx(tdb.db, world.companyA, {
      ranges: [['8000', '8099'], ['0100', '0199']],
      macs: ['aa:bb:cc:dd:ee:21', 'aa:bb:cc:dd:ee:22'],
      ddis: ['+33298300521'],
      services: { 'Enterprise Demo': 10, Gold: 1 },
    })
  })
  afterAll(async () => {
    await ia?.queue?.drained()
    await ia?.queue?.close()
    await ia?.app.close()
    await tdb?.close()
  })

  const email = (k: string) => `rvi-${k}-${world.companyA}@example.com`
  const post = (body: string, query = '') => ia.app.inject({
    method: 'POST',
    url: `${MP}/users/imports/rainbowvoice${query}`,
    headers: { ...bearer(token), 'content-type': 'text/csv; charset=utf-8' },
    payload: body,
  })
  async function run (body: string, extraQuery = '') {
    const res = await post(body, `?noemails=true&nostrict=false&comment=%25${extraQuery}`)
    expect(res.statusCode, res.body).toBe(200)
    const summary = res.json<{ data: { reqId: string, mode: string, status: string } }>().data
    expect(summary).toMatchObject({ mode: 'rainbowvoice', status: 'Pending' })
    expect(summary.reqId).toBe(createHash('sha256').update(`${world.companyA}\nrainbowvoice\n`).update(body).digest('hex'))
    await ia.queue!.drained()
    const details = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${summary.reqId}/details`, headers: bearer(token) })
    expect(details.statusCode).toBe(200)
    return { details: details.json<{ data: Details }>().data, raw: details.body }
  }
  const idOf = async (k: string) => (await tdb.db.query<{ id: string }>('SELECT id FROM users WHERE login_email = $1', [email(k)]))[0]!.id

  it('upsert creates the users, makes them subscribers with their device, DDI and services; a line with no licence left fails and the import goes on', async () => {
    const body = [
      HEADER,
      `upsert;${email('u1')};8001;AABB.CCDD.EE21;33298300521;This1Pwd!;Una;Enterprise Demo`,
      `upsert;${email('u2')};0150;;;;Duo;`,
      `upsert;${email('u3')};;;;;Tre;Gold`,
      `upsert;${email('u4')};8004;;;This1Pwd!;Quattro;Gold`,
      `upsert;${email('u5')};8005;aa-bb-cc-dd-ee-22;;;Cinque;`,
    ].join('\n')
    const { details, raw } = await run(body)
    expect(details).toMatchObject({ mode: 'rainbowvoice', status: 'Terminated', counters: { succeeded: 4, failed: 1, warnings: 0, total: 5 } })
    expect(details.report.map((r) => [r.lineNumber, r.status, r.errorCode ?? null])).toEqual([
      [2, 'success', null], [3, 'success', null], [4, 'success', null], [5, 'failed', PlanCodes.maxSubscriptionReached], [6, 'success', null],
    ])
    expect(raw).not.toContain('This1Pwd!')
    // Counted from the lines that did not fail (line 5 took nothing); profiles are the offers now.
    const voice = {
      profiles: { 'Enterprise Demo': { name: 'Enterprise Demo', valid: true, assignedAfter: 1, max: 10 }, Gold: { name: 'Gold', valid: true, assignedAfter: 1, max: 1 } },
      subscriberReport: { created: 3, deleted: 0, renumbered: 0 },
      sipDeviceReport: { attached: 2, detached: 0 },
      ddiReport: { attached: 1, detached: 0 },
    }
    expect(details).toMatchObject(voice)
    const small = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${details.reqId}/details?format=small`, headers: bearer(token) })
    expect(small.json().data).toMatchObject(voice)
    expect(small.json().data.report).toBeUndefined()
    expect(await voiceOf(tdb.db, await idOf('u1'))).toEqual({ shortNumber: '8001', mac: 'aa:bb:cc:dd:ee:21', ddi: '+33298300521', services: ['Enterprise Demo'], deleted: false })
    expect(await voiceOf(tdb.db, await idOf('u2'))).toMatchObject({ shortNumber: '0150', mac: null, ddi: null })
    expect(await voiceOf(tdb.db, await idOf('u3'))).toMatchObject({ shortNumber: null, services: ['Gold'] })
    expect(await tdb.db.query('SELECT 1 FROM users WHERE login_email = $1', [email('u4')])).toEqual([])
    expect(await voiceOf(tdb.db, await idOf('u5'))).toMatchObject({ shortNumber: '8005', mac: 'aa:bb:cc:dd:ee:22' })

    const wrongType = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/rainbowvoice`, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: '{}' })
    expect(wrongType.statusCode).toBe(415)
    expect(wrongType.json()).toMatchObject({ errorCode: 415 })
    const again = await post(body)
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ errorCode: 409 })

    const cloud = await ia.app.inject({ method: 'GET', url: `/api/rainbow/admin/v1.0/cloudpbx?companyId=${world.companyA}`, headers: bearer(token) })
    expect(cloud.json().data).toMatchObject({ subscribers: 3, services: [{ name: 'Enterprise Demo', used: 1 }, { name: 'Gold', licences: 1, used: 1 }] })
  })

  it('detach releases what the line names and keeps the user; delete releases everything, licences included, then deletes the user', async () => {
    const { details } = await run([
      HEADER,
      `detach;${email('u5')};8005;aa:bb:cc:dd:ee:22;;;;`,
      `detach;${email('u2')};0150;;;;;`,
      `delete;${email('u1')};;;;;;`,
      `delete;${email('u3')};;;;;;`,
      `detach;${email('nobody')};8001;;;;;`,
    // Two deletions of the company's seven users: over 10 %, confirmed (deletion safeguard).
    ].join('\n'), '&confirmDeletes=2')
    expect(details.report.map((r) => [r.lineNumber, r.status, r.errorCode ?? null])).toEqual([
      [2, 'success', null], [3, 'success', null], [4, 'success', null], [5, 'success', null], [6, 'failed', PlanCodes.userNotFound],
    ])
    // u5's device; u2's subscriber; u1's subscriber, device and DDI; u3 held nothing.
    expect(details).toMatchObject({ subscriberReport: { created: 0, deleted: 2, renumbered: 0 }, sipDeviceReport: { attached: 0, detached: 2 }, ddiReport: { attached: 0, detached: 1 } })
    expect(await voiceOf(tdb.db, await idOf('u5'))).toMatchObject({ shortNumber: '8005', mac: null, deleted: false })
    expect(await voiceOf(tdb.db, await idOf('u2'))).toMatchObject({ shortNumber: null, deleted: false })
    expect(await voiceOf(tdb.db, await idOf('u1'))).toMatchObject({ shortNumber: null, mac: null, ddi: null, deleted: true })
    // u3's Gold licence is free again: u4 now gets it.
    const { details: later } = await run([HEADER, `upsert;${email('u4')};8004;;;;Quattro;Gold`].join('\n'))
    expect(later.report.map((r) => r.status)).toEqual(['success'])
    expect(later).toMatchObject({ subscriberReport: { created: 1, deleted: 0, renumbered: 0 }, sipDeviceReport: { attached: 0, detached: 0 }, ddiReport: { attached: 0, detached: 0 } })
    const devices = (await ia.app.inject({ method: 'GET', url: '/api/rainbow/admin/v1.0/cloudpbx/devices', headers: bearer(token) })).json().data
    expect(devices.map((d: { macAddress: string, held: boolean }) => [d.macAddress, d.held])).toEqual([['aa:bb:cc:dd:ee:21', false], ['aa:bb:cc:dd:ee:22', false]])
  })
})
