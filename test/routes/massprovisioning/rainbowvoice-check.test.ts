import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { LineErrorCodes } from '../../../src/csv/line-errors.js'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { PlanCodes } from '../../../src/provisioning/codes.js'
import { generateTemplate } from '../../../src/csv/template.js'
import { bearer, buildTestApp, login, type TestApp } from '../../helpers/app.js'
import { dbKinds, openTestDb, recordingDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { addUser, holdNumber } from '../../jobs/helpers/import-app.js'
import { giveCloudPbx, subscribe, voiceOf } from '../../helpers/voice.js'
import { checkCsv } from '../../../src/provisioning/check.js'

const URL_CHECK = '/api/rainbow/massprovisioning/v1.0/users/imports/rainbowvoice/check'
/** users.role_rank of a company_admin (migrations/0005). */
const COMPANY_ADMIN_RANK = 1
const HEADER = '__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;firstName;service0;service1'

interface PlanLine { lineNumber: number, action: string, outcome: string, status: string, errorCode?: number, errorMsg?: string, voice?: { attached: string[], detached: string[] } }
interface Answer { reqId: string, mode: string, actions: Record<string, number>, profiles: Record<string, unknown>, errors: Array<{ lineNumber: number, column?: string, code: number, message: string }>, plan: PlanLine[] }

describe.each(dbKinds())('POST /users/imports/rainbowvoice/check on %s', (kind) => {
  let tdb: TestDb
  let app: TestApp
  let world: World
  const tokens = { adminA: '', superadmin: '' }
  const sub = { id: '', email: '' }
  const sub2 = { id: '', email: '' }
  const pbxHolder = { id: '', email: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    app = await buildTestApp(tdb.db)
    world = await createWorld(tdb.db)
    for (const who of ['adminA', 'superadmin'] as const) tokens[who] = await login(app, world[who].email, PASSWORD)
    await giveCloudPbx(tdb.db, world.companyA, {
      ranges: [['8000', '8099'], ['0100', '0199']],
      macs: ['aa:bb:cc:dd:ee:11', 'aa:bb:cc:dd:ee:12', 'aa:bb:cc:dd:ee:13', 'aa:bb:cc:dd:ee:15'],
      ddis: ['+33298300501', '+33298300502', '+33298300503', '+33298300505'],
      services: { 'Enterprise Demo': 100, 'Voice Enterprise 3-Year prepaid': 1 },
    })
    await giveCloudPbx(tdb.db, world.companyB, { ranges: [['9000', '9099']], macs: ['aa:bb:cc:dd:ff:01'], ddis: ['+33298300599'] })
    sub.email = `sub-${world.companyA}@example.com`
    sub.id = await addUser(tdb.db, world.companyA, sub.email)
    await subscribe(tdb.db, world.companyA, sub.id, '8050', { mac: 'aa:bb:cc:dd:ee:15', ddi: '+33298300505' })
    sub2.email = `sub2-${world.companyA}@example.com`
    sub2.id = await addUser(tdb.db, world.companyA, sub2.email)
    await subscribe(tdb.db, world.companyA, sub2.id, '8052')
    pbxHolder.email = `pbx-holder-${world.companyA}@example.com`
    pbxHolder.id = await addUser(tdb.db, world.companyA, pbxHolder.email)
    await holdNumber(tdb.db, pbxHolder.id, (await listPbxs(tdb.db, world.companyA))[0]!.pbxId, '2000')
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.close()
  })

  const check = async (body: string, opts: { token?: string, query?: string } = {}) => {
    const res = await app.inject({
      method: 'POST',
      url: `${URL_CHECK}${opts.query ? `?${opts.query}` : ''}`,
      headers: { ...bearer(opts.token ?? tokens.adminA), 'content-type': 'text/csv; charset=utf-8' },
      payload: body,
    })
    expect(res.statusCode, res.body).toBe(200)
    return (res.json() as { data: Answer }).data
  }
  const byLine = (a: Answer) => Object.fromEntries(a.plan.map((p) => [p.lineNumber, p.errorCode ?? p.outcome]))
  const email = (who: string) => `${who}-${world.companyA}@example.com`

  it('plans each line against the Cloud PBX: every Rainbow Voice code that planning can give, in file order, and writes nothing', async () => {
    const lines = [
      HEADER,
      `upsert;${email('new1')};8001;AA-BB-CC-DD-EE-11;33298300501;This1Pwd!;New;Enterprise Demo;`, // 2
      `upsert;${email('outside')};7000;;;;;;`, // 3: 2002
      `upsert;${email('taken')};8050;;;;;;`, // 4: 2003
      `upsert;${email('nomac')};8002;aabb.ccdd.ee99;;;;;`, // 5: 2007
      `upsert;${email('bmac')};8003;aa:bb:cc:dd:ff:01;;;;;`, // 6: 2008
      `upsert;${email('heldmac')};8004;aa:bb:cc:dd:ee:15;;;;;`, // 7: 2009
      `upsert;${sub.email};;aa:bb:cc:dd:ee:12;;;;;`, // 8: 2010
      `upsert;${email('nosub-mac')};;aa:bb:cc:dd:ee:13;;;;;`, // 9: 2011
      `upsert;${email('nosub-ddi')};;;+33298300503;;;;`, // 10: 2013
      `upsert;${email('noddi')};8005;;+33298300598;;;;`, // 11: 2014
      `upsert;${email('bddi')};8006;;+33298300599;;;;`, // 12: 2014 (another company's DDI)
      `upsert;${email('heldddi')};8007;;+33298300505;;;;`, // 13: 2015
      `upsert;${sub.email.replace('sub-', 'x-')};;;;;;;`, // 14: a plain user, no voice cell: created
      `upsert;${pbxHolder.email};8008;;;;;;`, // 15: 2004
      `upsert;${email('platinum')};;;;;;Platinum;`, // 16: 3103
      `upsert;${email('lic1')};;;;;;Voice Enterprise 3-Year prepaid;`, // 17: takes the only licence
      `upsert;${email('lic2')};;;;;;Voice Enterprise 3-Year prepaid;`, // 18: 403610
      `detach;${sub2.email};8051;;;;;;`, // 19: 2019
      `detach;${world.plainUser.email};8060;;+33298300501;;;;`, // 20: 2020
      `upsert;${email('zero')};0123;;;;;;`, // 21: leading zero kept
      `upsert;${email('badmac')};8009;aa:bb:cc;;;;;`, // 22: 3019
      `detach;${email('nodetach')};;;;;;;`, // 23: 2018
      `upsert;${world.orgAdmin.email};8010;;;;;;`, // 24: 3102 (D12)
    ]
    const before = await voiceOf(tdb.db, sub.id)
    const a = await check(lines.join('\n'))
    expect(a.mode).toBe('rainbowvoice')
    expect(a.reqId).toBe(createHash('sha256').update(`${world.companyA}\nrainbowvoice-check\n`).update(lines.join('\n')).digest('hex'))
    expect(byLine(a)).toEqual({
      2: 'create',
      3: PlanCodes.shortNumberNotInNumberingPlan,
      4: PlanCodes.shortNumberAlreadyAssigned,
      5: PlanCodes.sipDeviceNotFound,
      6: PlanCodes.sipDeviceInAnotherCompany,
      7: PlanCodes.sipDeviceAttachedToAnotherUser,
      8: PlanCodes.anotherSipDeviceAttachedToUser,
      9: PlanCodes.sipDeviceForNonSubscriber,
      10: PlanCodes.ddiForNonSubscriber,
      11: PlanCodes.ddiNotFound,
      12: PlanCodes.ddiNotFound,
      13: PlanCodes.ddiAttachedToAnotherUser,
      14: 'create',
      15: PlanCodes.userAlreadyInAnotherPbx,
      16: PlanCodes.unknownService,
      17: 'create',
      18: PlanCodes.maxSubscriptionReached,
      19: PlanCodes.subscriberNotTheUsers,
      20: PlanCodes.ddiDetachForNonSubscriber,
      21: 'create',
      22: LineErrorCodes.invalidMacAddress,
      23: LineErrorCodes.rvDetachWithoutShortNumber,
      24: PlanCodes.outsideCallerRights,
    })
    expect(a.plan[0]!.voice).toEqual({ attached: ['subscriber 8001', 'device aa:bb:cc:dd:ee:11', 'DDI +33298300501', 'service Enterprise Demo'], detached: [] })
    expect(a.plan.find((p) => p.lineNumber === 21)!.voice!.attached).toEqual(['subscriber 0123'])
    expect(a.plan.find((p) => p.lineNumber === 18)!.errorMsg).toMatch(/no licence left/)
    expect(a.errors.find((e) => e.lineNumber === 22)).toMatchObject({ column: 'macAddress', code: 3019 })
    expect(a.errors.find((e) => e.lineNumber === 23)).toMatchObject({ column: 'shortNumber', code: 2018 })
    expect(a.actions).toEqual({ upsert: 4, delete: 0, detach: 0 })
    // Every offer of the Cloud PBX; line 18 was refused the only licence: that offer is not valid.
    expect(a.profiles).toEqual({
      'Enterprise Demo': { name: 'Enterprise Demo', valid: true, assignedBefore: 0, assignedAfter: 1, max: 100 },
      'Voice Enterprise 3-Year prepaid': { name: 'Voice Enterprise 3-Year prepaid', valid: false, assignedBefore: 0, assignedAfter: 1, max: 1 },
    })
    expect(JSON.stringify(a)).not.toContain('This1Pwd!')
    expect(await voiceOf(tdb.db, sub.id)).toEqual(before)
  })

  it('a subscriber who holds a DDI cannot be given another (2016); naming the one it holds changes nothing', async () => {
    const a = await check([HEADER, `upsert;${sub.email};;;+33298300502;;;;`].join('\n'))
    const same = await check([HEADER, `upsert;${sub.email};8050;;+33298300505;;;;`].join('\n'))
    expect(byLine(a)).toEqual({ 2: PlanCodes.anotherDdiAttachedToUser })
    expect(same.plan.map((p) => [p.outcome, p.voice])).toEqual([['unchanged', { attached: [], detached: [] }]])
  })

  it('a file of several planning batches: the numbering plan and the licences in use carry over from the first batch to the last', async () => {
    const bulk = Array.from({ length: 520 }, (_, i) => `upsert;${email(`bulk${i}`)};;;;;;;`)
    const a = await check([HEADER, ...bulk,
      `upsert;${email('late1')};8090;;;;;Voice Enterprise 3-Year prepaid;`,
      `upsert;${email('late2')};8091;;;;;Voice Enterprise 3-Year prepaid;`,
      `upsert;${email('late3')};7090;;;;;;`,
    ].join('\n'))
    expect(a.plan.slice(-3).map((p) => p.errorCode ?? p.outcome)).toEqual(['create', PlanCodes.maxSubscriptionReached, PlanCodes.shortNumberNotInNumberingPlan])
    expect(a.actions.upsert).toBe(521)
  })

  it('a company without a Cloud PBX: a line naming a short number, device or DDI is 2001; a plain upsert is planned', async () => {
    const a = await check([HEADER, `upsert;nocloud1-${world.companyC}@example.com;8001;;;;;;`, `upsert;nocloud2-${world.companyC}@example.com;;;;;;;`].join('\n'), { token: tokens.superadmin, query: `companyId=${world.companyC}` })
    expect(byLine(a)).toEqual({ 2: PlanCodes.noCloudPbx, 3: 'create' })
    expect(a.profiles).toEqual({})
    expect(a.plan[0]!.errorMsg).toBe(`company ${world.companyC} has no Cloud PBX`)
  })

  it('detach releases what the line names; delete releases everything and the licences', async () => {
    const detach = await check([HEADER, `detach;${sub.email};8050;aa:bb:cc:dd:ee:15;;;;;`].join('\n'))
    const whole = await check([HEADER, `detach;${sub.email};8050;;;;;;`].join('\n'))
    await tdb.db.query("UPDATE users SET services = '{Enterprise Demo}' WHERE id = $1", [sub.id])
    const remove = await check([HEADER, `delete;${sub.email};;;;;;;`].join('\n'))
    expect([...detach.errors, ...whole.errors, ...remove.errors]).toEqual([])
    expect([...detach.plan, ...whole.plan, ...remove.plan].map((p) => [p.outcome, p.voice])).toEqual([
      ['detach', { attached: [], detached: ['device aa:bb:cc:dd:ee:15'] }],
      ['detach', { attached: [], detached: ['device aa:bb:cc:dd:ee:15', 'DDI +33298300505', 'subscriber 8050'] }],
      ['delete', { attached: [], detached: ['device aa:bb:cc:dd:ee:15', 'DDI +33298300505', 'subscriber 8050', 'service Enterprise Demo'] }],
    ])
    expect(remove.profiles['Enterprise Demo']).toEqual({ name: 'Enterprise Demo', valid: true, assignedBefore: 1, assignedAfter: 0, max: 100 })
    await tdb.db.query("UPDATE users SET services = '{}' WHERE id = $1", [sub.id])
  })

  it('the template\'s sample passes its own format check and, where the inventory holds its numbers, plans with zero errors', async () => {
    const co = await app.inject({ method: 'GET', url: '/api/rainbow/massprovisioning/v1.0/users/template?mode=rainbowvoice', headers: bearer(tokens.superadmin) })
    expect(co.body).toBe(generateTemplate('rainbowvoice'))
    // The sample's numbers, device, DDI and offers, and the users its detach and delete lines name.
    await giveCloudPbx(tdb.db, world.companyC, { ranges: [['1000', '1099']], macs: ['aa:bb:cc:dd:ee:01'], ddis: ['+33123456780'], services: { 'Enterprise Demo': 5, 'Voice Enterprise 3-Year prepaid': 5 } })
    const bob = await addUser(tdb.db, world.companyC, 'bob.martin@example.com')
    await addUser(tdb.db, world.companyC, 'carol.jenkins@example.com')
    await subscribe(tdb.db, world.companyC, bob, '1001')
    const a = await check(co.body, { token: tokens.superadmin, query: `companyId=${world.companyC}` })
    expect(a.errors).toEqual([])
    expect(a.plan.map((p) => p.outcome)).toEqual(['create', 'create', 'detach', 'delete'])
    expect(a.actions).toEqual({ upsert: 2, delete: 1, detach: 1 })
  })

  it('plans the same whether it reads the company\'s whole inventory first or looks up only what each batch names', async () => {
    const file = [
      HEADER,
      `upsert;${email('w-new')};8011;aa:bb:cc:dd:ee:11;+33298300501;;New;Enterprise Demo;`,
      `upsert;${email('w-taken')};8050;;;;;;`, // 2003
      `upsert;${email('w-nomac')};8012;aa:bb:cc:dd:ee:99;;;;;`, // 2007
      `upsert;${email('w-bmac')};8013;aa:bb:cc:dd:ff:01;;;;;`, // 2008
      `upsert;${email('w-heldmac')};8014;aa:bb:cc:dd:ee:15;;;;;`, // 2009
      `upsert;${email('w-bddi')};8015;;+33298300599;;;;`, // 2014 (another company's)
      `upsert;${email('w-again')};8016;aa:bb:cc:dd:ee:11;;;;;`, // 2009: line 2 took it
      `detach;${sub.email};8050;aa:bb:cc:dd:ee:15;;;;;`,
      `upsert;${email('w-after')};8017;aa:bb:cc:dd:ee:15;;;;;`, // free since the line before
    ].join('\n')
    const run = async () => {
      const { db, statements } = recordingDb(tdb.db)
      const answer = await checkCsv(db, { companyId: world.companyA, endpoint: 'rainbowvoice', body: Buffer.from(file), nostrict: false, caller: { id: world.adminA.id, rank: COMPANY_ADMIN_RANK }, maxDeletePercent: 100 })
      // Read whole, the inventory needs no subscriber looked up by short number; past its threshold
      // the read stops and the lookups take over.
      return { readWhole: !statements.some((s) => s.includes('short_number = k.short_number')), answer: answer.toObject().data }
    }
    const whole = await run()
    // Enough unused devices and DDIs that reading them all would cost more than looking up the file's keys.
    const unused = Array.from({ length: 60 }, (_, i) => i)
    await giveCloudPbx(tdb.db, world.companyA, {
      macs: unused.map((i) => `aa:bb:cc:00:00:${i.toString(16).padStart(2, '0')}`),
      ddis: unused.map((i) => `+3329840${String(i).padStart(4, '0')}`),
    })
    const probed = await run()
    expect(whole.readWhole).toBe(true)
    expect(probed.readWhole).toBe(false)
    expect(probed.answer.plan!.map((p) => p.errorCode ?? p.outcome)).toEqual([
      'create', PlanCodes.shortNumberAlreadyAssigned, PlanCodes.sipDeviceNotFound, PlanCodes.sipDeviceInAnotherCompany,
      PlanCodes.sipDeviceAttachedToAnotherUser, PlanCodes.ddiNotFound, PlanCodes.sipDeviceAttachedToAnotherUser, 'detach', 'create',
    ])
    expect(probed.answer).toEqual(whole.answer)
  })
})
