import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/csv/parse.js'
import type { CsvRow } from '../../src/csv/types.js'
import type { PhoneNumberRow } from '../../src/db/pbx-repository.js'
import type { UserRow } from '../../src/db/users-repository.js'
import { entryJson } from '../../src/provisioning/check.js'
import { firstErrorByLine, Planner, planRows, type Op, type PlanEntry, type Snapshot } from '../../src/provisioning/plan.js'

/**
 * planRows is what both the check and the import run: these tests pin, line by line, the outcome
 * a user reads in the check and the exact operations the import applies.
 */

const CO = 'aaaaaaaaaaaaaaaaaaaaaaaa'
const OTHER_CO = 'bbbbbbbbbbbbbbbbbbbbbbbb'
const PBX = 'PBX-A'
const PBX2 = 'PBX-A2'
const PASSWORD = 'S3cret!Pass'
/** A company administrator of CO who is none of the users of the tests. */
const CALLER = { id: 'c'.repeat(24), rank: 1 }

let seq = 0
function userRow (loginEmail: string, over: Partial<UserRow> = {}): UserRow {
  const id = over.id ?? `u${String(++seq).padStart(23, '0')}`
  return {
    id,
    companyId: CO,
    companyName: 'A',
    organizationId: null,
    loginEmail,
    passwordHash: null,
    title: null,
    firstName: null,
    lastName: null,
    nickName: null,
    jobTitle: null,
    department: null,
    userInfo1: null,
    userInfo2: null,
    country: null,
    state: null,
    language: null,
    timezone: null,
    visibility: null,
    accountType: 'free',
    isInitialized: false,
    authenticationType: null,
    authenticationExternalUid: null,
    selectedAppCustomisationTemplateName: null,
    photoUrl: null,
    ldapId: null,
    tags: [],
    services: [],
    emails: [],
    phoneNumbers: [],
    roles: ['user'],
    adminType: null,
    roleRank: 0,
    isActive: true,
    timeToLive: -1,
    jidIm: `${id}@localhost`,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...over,
  }
}

function numberRow (pbxId: string, shortNumber: string, userId: string | null = null, over: Partial<PhoneNumberRow> = {}): PhoneNumberRow {
  return {
    id: `n-${pbxId}-${shortNumber}`,
    systemId: `s-${pbxId}`,
    pbxId,
    companyId: CO,
    shortNumber,
    internalNumber: null,
    number: null,
    userId,
    attachedAt: userId ? new Date(0) : null,
    ...over,
  }
}

const nid = (pbxId: string, short: string) => `n-${pbxId}-${short}`

interface PlanCall { endpoint?: 'import' | 'synchronize' | 'rainbowvoice', nostrict?: boolean }

async function plan (lines: string[], snapshot: Partial<Snapshot>, opts: PlanCall = {}): Promise<PlanEntry[]> {
  const parsed = await parseCsv(`${lines.join('\n')}\n`, { endpoint: opts.endpoint ?? 'import' })
  const snap: Snapshot = { users: [], numbers: [], companyPbxIds: [PBX], ...snapshot }
  return planRows(parsed.rows, parsed.errors, snap, { companyId: CO, nostrict: opts.nostrict ?? false, mode: parsed.mode, caller: CALLER })
}

/** What the check shows: the entry without its ops. */
const shown = (entries: PlanEntry[]) => entries.map(({ ops: _ops, ...rest }) => rest)

const USER_HEADER = '__action__;loginEmail;password;firstName;lastName;jobTitle;country'
const DEVICE_HEADER = '__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number'
const SYNC_HEADER = '__action__;loginEmail;password;firstName;jobTitle;tags0;tags1;accountType;pbxId;pbxShortNumber'

describe('planRows, user mode', () => {
  it('create of a new user: one createUser op carrying the password; the plan shows it only as "set"', async () => {
    const [e] = await plan([USER_HEADER, `create;New.User@Example.com;${PASSWORD};New;User;Engineer;fra`], {})
    expect(e).toMatchObject({ lineNumber: 2, action: 'create', loginEmail: 'new.user@example.com', outcome: 'create', status: 'success' })
    // a create names the fields it sets; the values are in the op only
    expect(e!.set).toEqual(['firstName', 'lastName', 'jobTitle', 'country', 'password'])
    expect(e!.changes).toBeUndefined()
    expect(e!.ops).toHaveLength(1)
    const op = e!.ops[0] as Extract<Op, { kind: 'createUser' }>
    expect(op).toMatchObject({
      kind: 'createUser',
      loginEmail: 'new.user@example.com',
      fields: { firstName: 'New', lastName: 'User', jobTitle: 'Engineer', country: 'FRA' },
      password: PASSWORD,
    })
    expect(op.userId).toMatch(/^[0-9a-f]{24}$/)
    expect(JSON.stringify(shown([e!]))).not.toContain(PASSWORD)
  })

  it('create without a password: no password change, password null in the op', async () => {
    const [e] = await plan([USER_HEADER, 'create;nopwd@example.com;;Nina;;;'], {})
    expect(e!.set).toEqual(['firstName'])
    expect(e!.ops).toEqual([expect.objectContaining({ kind: 'createUser', password: null, fields: { firstName: 'Nina' } })])
  })

  it('update writes only the fields that change, ignores empty cells, and names the user', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric', lastName: 'Lasalle', jobTitle: 'Dev', country: 'FRA' })
    const [e] = await plan([USER_HEADER, 'update;ERIC@example.com;;;Lasalle;Tech Support;'], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'update', status: 'success', userId: eric.id })
    expect(e!.changes).toEqual({ jobTitle: { from: 'Dev', to: 'Tech Support' } })
    expect(e!.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: { jobTitle: 'Tech Support' }, password: null }])
  })

  it('update with the values already stored is unchanged and applies nothing', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric', jobTitle: 'Dev' })
    const [e] = await plan([USER_HEADER, 'update;eric@example.com;;Eric;;Dev;'], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'unchanged', status: 'success', userId: eric.id, changes: {} })
    expect(e!.ops).toEqual([])
  })

  it('update of the password alone is an update; the plan says "changed" (never from: null), the op carries the value', async () => {
    const eric = userRow('eric@example.com')
    const [e] = await plan([USER_HEADER, `update;eric@example.com;${PASSWORD};;;;`], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'update', changes: { password: { from: 'hidden', to: 'changed' } } })
    expect(e!.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: {}, password: PASSWORD }])
    expect(JSON.stringify(shown([e!]))).not.toContain(PASSWORD)
  })

  it('delete of a user: deleteUser; a number the user holds is detached first', async () => {
    const carol = userRow('carol@example.com')
    const held = numberRow(PBX, '2000', carol.id)
    const [e] = await plan([USER_HEADER, 'delete;carol@example.com;;;;;'], { users: [carol], numbers: [held] })
    expect(e).toMatchObject({ outcome: 'delete', status: 'success', userId: carol.id, device: { outcome: 'detach', detached: [`${PBX}/2000`] } })
    expect(e!.ops).toEqual([{ kind: 'detach', numberId: held.id }, { kind: 'deleteUser', userId: carol.id }])
    // planning works on copies: the snapshot (which the import re-reads) is untouched
    expect(held.userId).toBe(carol.id)
  })

  it('delete of a user holding nothing has no device part', async () => {
    const carol = userRow('carol@example.com')
    const [e] = await plan([USER_HEADER, 'delete;carol@example.com;;;;;'], { users: [carol] })
    expect(e!.device).toBeUndefined()
    expect(e!.ops).toEqual([{ kind: 'deleteUser', userId: carol.id }])
  })

  it('create of an existing user fails with 409600 and applies nothing', async () => {
    const eric = userRow('eric@example.com', { jobTitle: 'Dev' })
    const [e] = await plan([USER_HEADER, 'create;eric@example.com;;;;Boss;'], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 409600 })
    expect(e!.errorMsg).toContain('eric@example.com')
    expect(e!.ops).toEqual([])
  })

  it('nostrict: create of an existing user of the company becomes an update of it', async () => {
    const eric = userRow('eric@example.com', { jobTitle: 'Dev' })
    const [e] = await plan([USER_HEADER, 'create;eric@example.com;;;;Boss;'], { users: [eric] }, { nostrict: true })
    expect(e).toMatchObject({ action: 'create', outcome: 'update', status: 'success', userId: eric.id, changes: { jobTitle: { from: 'Dev', to: 'Boss' } } })
    expect(e!.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: { jobTitle: 'Boss' }, password: null }])
  })

  it('nostrict does not let a file take over a user of another company: still 409600', async () => {
    const foreign = userRow('foreign@example.com', { companyId: OTHER_CO })
    for (const nostrict of [false, true]) {
      const [e] = await plan([USER_HEADER, 'create;foreign@example.com;;;;Boss;'], { users: [foreign] }, { nostrict })
      expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 409600 })
      expect(e!.ops).toEqual([])
    }
  })

  it('update of a missing user, or of a user of another company, fails with 3101', async () => {
    const foreign = userRow('foreign@example.com', { companyId: OTHER_CO })
    const entries = await plan([USER_HEADER, 'update;ghost@example.com;;;;Boss;', 'update;foreign@example.com;;;;Boss;'], { users: [foreign] })
    for (const e of entries) {
      expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 3101 })
      expect(e.ops).toEqual([])
    }
    // nostrict does not turn an update of a missing user into a create
    const [again] = await plan([USER_HEADER, 'update;ghost@example.com;;;;Boss;'], {}, { nostrict: true })
    expect(again).toMatchObject({ status: 'failed', errorCode: 3101 })
  })

  it('delete of a missing user: 3101 failed; with nostrict a warning that applies nothing', async () => {
    const [strict] = await plan([USER_HEADER, 'delete;ghost@example.com;;;;;'], {})
    expect(strict).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 3101, ops: [] })
    const [lenient] = await plan([USER_HEADER, 'delete;ghost@example.com;;;;;'], {}, { nostrict: true })
    expect(lenient).toMatchObject({ outcome: 'unchanged', status: 'warning', errorCode: 3101, ops: [] })
  })

  it('a user of another company cannot be deleted, even with nostrict', async () => {
    const foreign = userRow('foreign@example.com', { companyId: OTHER_CO })
    const [e] = await plan([USER_HEADER, 'delete;foreign@example.com;;;;;'], { users: [foreign] }, { nostrict: true })
    expect(e!.ops).toEqual([])
    expect(e!.status).not.toBe('success')
  })

  it('a line with a validation error is an error entry with its validation code, never planned', async () => {
    const eric = userRow('eric@example.com')
    const entries = await plan([USER_HEADER, 'update;eric@example.com;weak;;;;', 'update;eric2@example.com;;;;;ZZZ'], { users: [eric] })
    expect(entries[0]).toMatchObject({ lineNumber: 2, outcome: 'error', status: 'failed', errorCode: 3011, ops: [] })
    expect(entries[1]).toMatchObject({ lineNumber: 3, outcome: 'error', status: 'failed', errorCode: 3014, ops: [] })
    expect(JSON.stringify(shown(entries))).not.toContain('weak')
  })

  it('keeps file order and physical line numbers (comments and blank lines counted)', async () => {
    const eric = userRow('eric@example.com')
    const entries = await plan([USER_HEADER, '% a comment', 'create;a@example.com;;A;;;', '', 'delete;eric@example.com;;;;;', 'update;ghost@example.com;;;;x;'], { users: [eric] })
    expect(entries.map((e) => [e.lineNumber, e.outcome])).toEqual([[3, 'create'], [5, 'delete'], [6, 'error']])
  })

  it('a delete frees the loginEmail for the lines after it (same e-mail in another case is a duplicate line)', async () => {
    // The file refuses a repeated loginEmail (3004), so the plan never sees delete then create of the same user.
    const eric = userRow('eric@example.com')
    const entries = await plan([USER_HEADER, 'delete;eric@example.com;;;;;', 'create;ERIC@example.com;;;;;'], { users: [eric] })
    expect(entries[0]!.outcome).toBe('delete')
    expect(entries[1]).toMatchObject({ status: 'failed', errorCode: 3004, ops: [] })
  })
})

describe('planRows, device mode', () => {
  const alice = () => userRow('alice@example.com')
  const bob = () => userRow('bob@example.com')

  it('attach a free number: one attach op with the CSV internal number and DDI', async () => {
    const a = alice()
    const free = numberRow(PBX, '2000', null, { internalNumber: '+33900000000', number: '+33100000000' })
    const [e] = await plan([DEVICE_HEADER, `attach;alice@example.com;${PBX};2000;+33900001000;+33123456780`], { users: [a], numbers: [free] })
    expect(e).toMatchObject({ outcome: 'attach', status: 'success', userId: a.id, device: { outcome: 'attach', pbxId: PBX, shortNumber: '2000' } })
    expect(e!.ops).toEqual([{ kind: 'attach', numberId: free.id, userId: a.id, internalNumber: '+33900001000', number: '+33123456780' }])
  })

  it('attach without pbxId finds the number by short number in the company; empty cells keep the stored numbers', async () => {
    const a = alice()
    const free = numberRow(PBX, '2000', null, { internalNumber: '+33900000000', number: '+33100000000' })
    const [e] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2000;;'], { users: [a], numbers: [free] })
    expect(e!.ops).toEqual([{ kind: 'attach', numberId: free.id, userId: a.id, internalNumber: '+33900000000', number: '+33100000000' }])
  })

  it('attach of a number the user already holds, same values: unchanged, nothing applied', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, `attach;alice@example.com;${PBX};2000;;`], { users: [a], numbers: [numberRow(PBX, '2000', a.id)] })
    expect(e).toMatchObject({ outcome: 'unchanged', status: 'success', device: { outcome: 'unchanged' } })
    expect(e!.ops).toEqual([])
  })

  it('attach of an unknown number → 1003 (by pbxId or by company)', async () => {
    const a = alice()
    const entries = await plan([DEVICE_HEADER, `attach;alice@example.com;${PBX};9999;;`], { users: [a], numbers: [numberRow(PBX, '2000')] })
    expect(entries[0]).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1003, ops: [] })
    const [byCompany] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;9999;;'], { users: [a], numbers: [numberRow(PBX, '2000')] })
    expect(byCompany).toMatchObject({ status: 'failed', errorCode: 1003 })
  })

  it('a number of another company is unknown (1003), not attachable', async () => {
    const a = alice()
    const foreign = numberRow('PBX-B', '2000', null, { companyId: OTHER_CO })
    const [e] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2000;;'], { users: [a], numbers: [foreign] })
    expect(e).toMatchObject({ status: 'failed', errorCode: 1003, ops: [] })
  })

  it('attach on a pbxId the company does not have → 1001', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'attach;alice@example.com;PBX-NOPE;2000;;'], { users: [a], numbers: [numberRow(PBX, '2000')] })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1001, ops: [] })
  })

  it('a short number on two PBXs of the company without pbxId → 1006; with pbxId it resolves', async () => {
    const a = alice()
    const numbers = [numberRow(PBX, '2000'), numberRow(PBX2, '2000')]
    const snap = { users: [a], numbers, companyPbxIds: [PBX, PBX2] }
    const [ambiguous] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2000;;'], snap)
    expect(ambiguous).toMatchObject({ status: 'failed', errorCode: 1006, ops: [] })
    expect(ambiguous!.errorMsg).toContain(PBX2)
    const [named] = await plan([DEVICE_HEADER, `attach;alice@example.com;${PBX2};2000;;`], snap)
    expect(named).toMatchObject({ outcome: 'attach', device: { pbxId: PBX2, shortNumber: '2000' } })
    expect(named!.ops).toEqual([expect.objectContaining({ kind: 'attach', numberId: nid(PBX2, '2000'), userId: a.id })])
  })

  it('attach of a number another user holds → 1008', async () => {
    const a = alice()
    const b = bob()
    const [e] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2000;;'], { users: [a, b], numbers: [numberRow(PBX, '2000', b.id)] })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1008, ops: [] })
  })

  it('attach to a user who already holds another number → 1007', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2001;;'], { users: [a], numbers: [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001')] })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1007, ops: [] })
    expect(e!.errorMsg).toContain(`${PBX}/2000`)
  })

  it('a device line for a user missing from the company → 3101', async () => {
    const foreign = userRow('foreign@example.com', { companyId: OTHER_CO })
    const entries = await plan([DEVICE_HEADER, 'attach;ghost@example.com;;2000;;', 'detach;foreign@example.com;;;;'], { users: [foreign], numbers: [numberRow(PBX, '2000')] })
    expect(entries.map((e) => e.errorCode)).toEqual([3101, 3101])
  })

  it('a device line without pbxShortNumber: the file check refuses it (3002); the planner alone answers 1002', async () => {
    const a = alice()
    const [validated] = await plan([DEVICE_HEADER, `attach;alice@example.com;${PBX};;;`], { users: [a] })
    expect(validated).toMatchObject({ status: 'failed', errorCode: 3002, ops: [] })
    // A row that reached the planner without a short number (hand-made: the validator normally stops it).
    const row: CsvRow = { lineNumber: 2, action: 'force_attach', loginEmail: a.loginEmail, valid: true, values: { pbxId: PBX, pbxShortNumber: null }, raw: '' }
    const [e] = planRows([row], [], { users: [a], numbers: [], companyPbxIds: [PBX] }, { companyId: CO, nostrict: false, mode: 'device', caller: CALLER })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1002, ops: [] })
  })

  it('force_attach takes the number from its holder: detach from the holder, then attach', async () => {
    const a = alice()
    const b = bob()
    const held = numberRow(PBX, '2000', b.id)
    const [e] = await plan([DEVICE_HEADER, 'force_attach;alice@example.com;;2000;;'], { users: [a, b], numbers: [held] })
    expect(e).toMatchObject({ outcome: 'force_attach', status: 'success', userId: a.id, device: { outcome: 'force_attach', pbxId: PBX, shortNumber: '2000', previousHolder: b.id } })
    expect(e!.ops).toEqual([
      { kind: 'detach', numberId: held.id },
      { kind: 'attach', numberId: held.id, userId: a.id, internalNumber: null, number: null },
    ])
    expect(held.userId).toBe(b.id)
  })

  it('force_attach also frees the other numbers of the user', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'force_attach;alice@example.com;;2001;;'], { users: [a], numbers: [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001')] })
    expect(e).toMatchObject({ outcome: 'force_attach', device: { outcome: 'force_attach', shortNumber: '2001', detached: [`${PBX}/2000`] } })
    expect(e!.device!.previousHolder).toBeUndefined()
    expect(e!.ops).toEqual([
      { kind: 'detach', numberId: nid(PBX, '2000') },
      { kind: 'attach', numberId: nid(PBX, '2001'), userId: a.id, internalNumber: null, number: null },
    ])
  })

  it('force_attach of a number the user already holds, with another one: frees the other, keeps the named one without detaching it', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'force_attach;alice@example.com;;2001;;'], { users: [a], numbers: [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001', a.id)] })
    expect(e).toMatchObject({ outcome: 'force_attach', status: 'success', device: { shortNumber: '2001', detached: [`${PBX}/2000`] } })
    expect(e!.ops).toEqual([
      { kind: 'detach', numberId: nid(PBX, '2000') },
      { kind: 'attach', numberId: nid(PBX, '2001'), userId: a.id, internalNumber: null, number: null },
    ])
    // plain attach refuses the same situation
    const [refused] = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2001;;'], { users: [a], numbers: [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001', a.id)] })
    expect(refused).toMatchObject({ status: 'failed', errorCode: 1007 })
  })

  it('force_attach of a free number to a user holding nothing is a plain attach', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'force_attach;alice@example.com;;2000;;'], { users: [a], numbers: [numberRow(PBX, '2000')] })
    expect(e).toMatchObject({ action: 'force_attach', outcome: 'attach', status: 'success' })
    expect(e!.ops).toEqual([{ kind: 'attach', numberId: nid(PBX, '2000'), userId: a.id, internalNumber: null, number: null }])
  })

  it('detach of the only number held: one detach op', async () => {
    const a = alice()
    const [e] = await plan([DEVICE_HEADER, 'detach;alice@example.com;;;;'], { users: [a], numbers: [numberRow(PBX, '2000', a.id)] })
    expect(e).toMatchObject({ outcome: 'detach', status: 'success', userId: a.id, device: { outcome: 'detach', pbxId: PBX, shortNumber: '2000' } })
    expect(e!.ops).toEqual([{ kind: 'detach', numberId: nid(PBX, '2000') }])
  })

  it('detach when the user holds none → 1010; several without naming one → 1011; naming one detaches it', async () => {
    const a = alice()
    const [none] = await plan([DEVICE_HEADER, 'detach;alice@example.com;;;;'], { users: [a], numbers: [numberRow(PBX, '2000')] })
    expect(none).toMatchObject({ status: 'failed', errorCode: 1010, ops: [] })
    const two = [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001', a.id)]
    const [several] = await plan([DEVICE_HEADER, 'detach;alice@example.com;;;;'], { users: [a], numbers: two })
    expect(several).toMatchObject({ status: 'failed', errorCode: 1011, ops: [] })
    const [named] = await plan([DEVICE_HEADER, `detach;alice@example.com;${PBX};2001;;`], { users: [a], numbers: two })
    expect(named).toMatchObject({ outcome: 'detach', device: { shortNumber: '2001' } })
    expect(named!.ops).toEqual([{ kind: 'detach', numberId: nid(PBX, '2001') }])
  })

  it('a named detach of a number the user does not hold → 1010', async () => {
    const a = alice()
    const b = bob()
    const numbers = [numberRow(PBX, '2000', a.id), numberRow(PBX, '2001', b.id)]
    const [e] = await plan([DEVICE_HEADER, `detach;alice@example.com;${PBX};2001;;`], { users: [a, b], numbers })
    expect(e).toMatchObject({ status: 'failed', errorCode: 1010, ops: [] })
  })

  it('later lines see the effects of earlier lines: detach then attach the same number to another user', async () => {
    const a = alice()
    const b = bob()
    const numbers = [numberRow(PBX, '2000', b.id)]
    const alone = await plan([DEVICE_HEADER, 'attach;alice@example.com;;2000;;'], { users: [a, b], numbers })
    expect(alone[0]!.errorCode).toBe(1008)
    const entries = await plan([DEVICE_HEADER, 'detach;bob@example.com;;;;', 'attach;alice@example.com;;2000;;'], { users: [a, b], numbers })
    expect(entries.map((e) => [e.outcome, e.status])).toEqual([['detach', 'success'], ['attach', 'success']])
    expect(entries.flatMap((e) => e.ops)).toEqual([
      { kind: 'detach', numberId: nid(PBX, '2000') },
      { kind: 'attach', numberId: nid(PBX, '2000'), userId: a.id, internalNumber: null, number: null },
    ])
  })

  it('a number force-attached on one line is held on the next (1008), and its old holder holds nothing (1010)', async () => {
    const a = alice()
    const b = bob()
    const c = userRow('carol@example.com')
    const entries = await plan([
      DEVICE_HEADER,
      'force_attach;alice@example.com;;2000;;',
      'attach;carol@example.com;;2000;;',
      'detach;bob@example.com;;;;',
    ], { users: [a, b, c], numbers: [numberRow(PBX, '2000', b.id)] })
    expect(entries.map((e) => e.errorCode ?? e.outcome)).toEqual(['force_attach', 1008, 1010])
  })
})

describe('planRows, useranddevice mode (synchronize)', () => {
  const sync = (lines: string[], snapshot: Partial<Snapshot>, opts: PlanCall = {}) => plan([SYNC_HEADER, ...lines], snapshot, { endpoint: 'synchronize', ...opts })

  it('upsert of a new user creates it and attaches its number to the new id', async () => {
    const [e] = await sync([`upsert;new@example.com;${PASSWORD};New;Dev;;;basic;${PBX};2000`], { numbers: [numberRow(PBX, '2000')] })
    expect(e).toMatchObject({ outcome: 'create', status: 'success', device: { outcome: 'attach', pbxId: PBX, shortNumber: '2000' } })
    expect(e!.userId).toBeUndefined() // the id is made at import; the check must not show one that will not exist
    expect(e!.set).toEqual(['firstName', 'jobTitle', 'accountType', 'password'])
    const [create, attach] = e!.ops as [Extract<Op, { kind: 'createUser' }>, Extract<Op, { kind: 'attach' }>]
    expect(e!.ops).toHaveLength(2)
    expect(create).toMatchObject({ kind: 'createUser', loginEmail: 'new@example.com', fields: { firstName: 'New', jobTitle: 'Dev', accountType: 'basic' }, password: PASSWORD })
    expect(attach).toEqual({ kind: 'attach', numberId: nid(PBX, '2000'), userId: create.userId, internalNumber: null, number: null })
    expect(JSON.stringify(shown([e!]))).not.toContain(PASSWORD)
  })

  it('upsert of an existing user updates the filled fields only (empty cells ignored)', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric', jobTitle: 'Dev', tags: ['a'], accountType: 'advanced' })
    const [e] = await sync(['upsert;eric@example.com;;Erik;;;;;;'], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'update', userId: eric.id, changes: { firstName: { from: 'Eric', to: 'Erik' } } })
    expect(Object.keys(e!.changes!)).toEqual(['firstName'])
    expect(e!.device).toBeUndefined()
    expect(e!.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: { firstName: 'Erik' }, password: null }])
  })

  it('upsert with pbxShortNumber force-attaches: the number leaves its holder', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric' })
    const bob = userRow('bob@example.com')
    const held = numberRow(PBX, '2000', bob.id)
    const [e] = await sync(['upsert;eric@example.com;;Eric;;;;;;2000'], { users: [eric, bob], numbers: [held] })
    expect(e!.status).toBe('success')
    expect(e!.device).toMatchObject({ outcome: 'force_attach', shortNumber: '2000', previousHolder: bob.id })
    expect(e!.ops).toEqual([
      { kind: 'detach', numberId: held.id },
      { kind: 'attach', numberId: held.id, userId: eric.id, internalNumber: null, number: null },
    ])
    // nothing about the user changes, but the line moves a number: the plan must say so, not 'unchanged'
    expect(e!.outcome).toBe('force_attach')
  })

  it('sync of a user whose fields are already right but who holds a number: outcome detach', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric' })
    const [e] = await sync(['sync;eric@example.com;;Eric;;;;;;'], { users: [eric], numbers: [numberRow(PBX, '2000', eric.id)] })
    expect(e).toMatchObject({ outcome: 'detach', status: 'success', changes: {}, device: { outcome: 'detach' } })
    expect(e!.ops).toEqual([{ kind: 'detach', numberId: nid(PBX, '2000') }])
  })

  it('upsert of a user already holding the named number, nothing else changing: unchanged, no ops', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric' })
    const [e] = await sync([`upsert;eric@example.com;;Eric;;;;;${PBX};2000`], { users: [eric], numbers: [numberRow(PBX, '2000', eric.id)] })
    expect(e).toMatchObject({ outcome: 'unchanged', status: 'success', device: { outcome: 'unchanged' } })
    expect(e!.ops).toEqual([])
  })

  it('upsert with an unknown number fails the whole line (1003): the user is not changed either', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric' })
    const [e] = await sync(['upsert;eric@example.com;;Erik;;;;;;9999'], { users: [eric], numbers: [numberRow(PBX, '2000')] })
    expect(e).toMatchObject({ outcome: 'error', status: 'failed', errorCode: 1003, ops: [] })
  })

  it('sync applies empty cells: clears text, empties tags, puts accountType back to free, detaches the numbers', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric', jobTitle: 'Boss', tags: ['a', 'b'], accountType: 'advanced' })
    const held = numberRow(PBX, '2000', eric.id)
    const [e] = await sync(['sync;eric@example.com;;Eric;;;;;;'], { users: [eric], numbers: [held] })
    expect(e).toMatchObject({ outcome: 'update', status: 'success', userId: eric.id, device: { outcome: 'detach', detached: [`${PBX}/2000`] } })
    expect(e!.changes).toEqual({
      jobTitle: { from: 'Boss', to: null },
      tags: { from: ['a', 'b'], to: [] },
      accountType: { from: 'advanced', to: 'free' },
    })
    expect(e!.ops).toEqual([
      { kind: 'updateUser', userId: eric.id, fields: { jobTitle: null, tags: [], accountType: 'free' }, password: null },
      { kind: 'detach', numberId: held.id },
    ])
  })

  describe('one rule for every column: an empty cell of a column the file has is cleared by sync, a column it lacks is left alone', () => {
    const planWith = async (header: string, line: string, user: UserRow) => {
      const parsed = await parseCsv(`${header}\n${line}\n`, { endpoint: 'synchronize' })
      return planRows(parsed.rows, parsed.errors, { users: [user], numbers: [], companyPbxIds: [PBX] }, { companyId: CO, nostrict: false, mode: 'useranddevice', caller: CALLER })[0]!
    }
    const landline = (number: string) => ({ number, numberE164: number, type: 'work' as const, deviceType: 'landline' as const, isVisibleByOthers: true })
    const mobile = (number: string) => ({ ...landline(number), deviceType: 'mobile' as const })

    it('tags: only the tags the file names (it cleared tags1 to tags4 when the file had tags0 alone)', async () => {
      const eric = userRow('eric@example.com', { tags: ['a', 'b', 'c'] })
      const cleared = await planWith('__action__;loginEmail;tags0', 'sync;eric@example.com;', eric)
      expect(cleared.changes).toEqual({ tags: { from: ['a', 'b', 'c'], to: ['b', 'c'] } })
      expect(cleared.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: { tags: ['b', 'c'] }, password: null }])
      const set = await planWith('__action__;loginEmail;tags0', 'sync;eric@example.com;x', eric)
      expect(set.changes).toEqual({ tags: { from: ['a', 'b', 'c'], to: ['x', 'b', 'c'] } })
      const second = await planWith('__action__;loginEmail;tags1', 'sync;eric@example.com;', eric)
      expect(second.changes).toEqual({ tags: { from: ['a', 'b', 'c'], to: ['a', 'c'] } })
    })

    it('upsert ignores an empty indexed cell: the tag at that index stays', async () => {
      const eric = userRow('eric@example.com', { tags: ['a', 'b'] })
      const e = await planWith('__action__;loginEmail;tags0;tags1', 'upsert;eric@example.com;x;', eric)
      expect(e.changes).toEqual({ tags: { from: ['a', 'b'], to: ['x', 'b'] } })
    })

    it('phones: the same rule as tags, by index within businessPhone{n} and mobilePhone{n}', async () => {
      const eric = userRow('eric@example.com', { phoneNumbers: [landline('+33123456789'), landline('+33123456780'), mobile('+33612345678')] })
      const first = await planWith('__action__;loginEmail;businessPhone0', 'sync;eric@example.com;', eric)
      expect(first.changes).toEqual({ phoneNumbers: { from: eric.phoneNumbers, to: [landline('+33123456780'), mobile('+33612345678')] } })
      const mobiles = await planWith('__action__;loginEmail;mobilePhone0', 'sync;eric@example.com;', eric)
      expect(mobiles.changes).toEqual({ phoneNumbers: { from: eric.phoneNumbers, to: [landline('+33123456789'), landline('+33123456780')] } })
      const same = await planWith('__action__;loginEmail;businessPhone1', 'sync;eric@example.com;+33123456780', eric)
      expect(same).toMatchObject({ outcome: 'unchanged', changes: {} })
    })

    it('scalars: an empty cell clears under sync and shows in the plan; a column the file lacks stays', async () => {
      const eric = userRow('eric@example.com', { firstName: 'Eric', jobTitle: 'Boss', tags: ['a'] })
      const e = await planWith('__action__;loginEmail;jobTitle', 'sync;eric@example.com;', eric)
      expect(e.changes).toEqual({ jobTitle: { from: 'Boss', to: null } })
    })
  })

  it('sync with the device columns absent from the header keeps the numbers', async () => {
    const eric = userRow('eric@example.com', { jobTitle: 'Boss' })
    const parsed = await parseCsv('__action__;loginEmail;jobTitle\nsync;eric@example.com;\n', { endpoint: 'synchronize' })
    const [e] = planRows(parsed.rows, parsed.errors, { users: [eric], numbers: [numberRow(PBX, '2000', eric.id)], companyPbxIds: [PBX] }, { companyId: CO, nostrict: false, mode: 'useranddevice', caller: CALLER })
    expect(e!.device).toBeUndefined()
    expect(e!.ops).toEqual([{ kind: 'updateUser', userId: eric.id, fields: { jobTitle: null }, password: null }])
  })

  it('sync of a user whose stored values equal the file (empty = cleared already) is unchanged', async () => {
    const eric = userRow('eric@example.com', { firstName: 'Eric' })
    const [e] = await sync(['sync;eric@example.com;;Eric;;;;;;'], { users: [eric] })
    expect(e).toMatchObject({ outcome: 'unchanged', changes: {}, ops: [] })
    expect(e!.device).toBeUndefined()
  })

  it('sync of a new user creates it without inventing cleared fields', async () => {
    const [e] = await sync(['sync;new@example.com;;New;;;;;;'], {})
    expect(e).toMatchObject({ outcome: 'create', set: ['firstName'] })
    expect(e!.ops).toEqual([expect.objectContaining({ kind: 'createUser', fields: { firstName: 'New' } })])
  })

  it('upsert or sync of a user of another company → 409600', async () => {
    const foreign = userRow('foreign@example.com', { companyId: OTHER_CO })
    const entries = await sync(['upsert;foreign@example.com;;X;;;;;;', 'sync;foreign2@example.com;;X;;;;;;'], { users: [foreign, userRow('foreign2@example.com', { companyId: OTHER_CO })] })
    for (const e of entries) expect(e).toMatchObject({ status: 'failed', errorCode: 409600, ops: [] })
  })

  it('delete detaches then deletes; detach frees the only number; later lines see both', async () => {
    const carol = userRow('carol@example.com')
    const bob = userRow('bob@example.com')
    const numbers = [numberRow(PBX, '2000', carol.id), numberRow(PBX, '2001', bob.id)]
    const entries = await sync([
      'delete;carol@example.com;;;;;;;;',
      'detach;bob@example.com;;;;;;;;',
      'upsert;new@example.com;;;;;;;;2000',
      'upsert;new2@example.com;;;;;;;;2001',
    ], { users: [carol, bob], numbers })
    expect(entries.map((e) => [e.outcome, e.status, e.device?.outcome])).toEqual([
      ['delete', 'success', 'detach'],
      ['detach', 'success', 'detach'],
      ['create', 'success', 'attach'],
      ['create', 'success', 'attach'],
    ])
    expect(entries[0]!.ops).toEqual([{ kind: 'detach', numberId: nid(PBX, '2000') }, { kind: 'deleteUser', userId: carol.id }])
    expect(entries[1]!.ops).toEqual([{ kind: 'detach', numberId: nid(PBX, '2001') }])
    // the freed numbers are attached without detaching anyone again
    expect(entries[2]!.ops.map((o) => o.kind)).toEqual(['createUser', 'attach'])
    expect(entries[3]!.ops.map((o) => o.kind)).toEqual(['createUser', 'attach'])
  })

  it('never puts a password value anywhere but the op that sets it', async () => {
    const eric = userRow('eric@example.com')
    const entries = await sync([`upsert;eric@example.com;${PASSWORD};;;;;;;`, `sync;new@example.com;${PASSWORD}x;;;;;;;`], { users: [eric] })
    expect(entries.map((e) => e.changes?.password ?? e.set?.includes('password'))).toEqual([{ from: 'hidden', to: 'changed' }, true])
    expect(JSON.stringify(shown(entries))).not.toContain(PASSWORD)
    expect(entries.flatMap((e) => e.ops).map((o) => 'password' in o ? o.password : undefined)).toEqual([PASSWORD, `${PASSWORD}x`])
  })
})

describe('planRows, rainbowvoice mode', () => {
  const HEADER = '__action__;loginEmail;password;shortNumber;macAddress;ddiE164Number;service0'
  const holder = userRow('holder@example.com', { services: ['Demo'] })
  const voice = (over: Partial<NonNullable<Snapshot['voice']>> = {}): Snapshot['voice'] => ({
    hasCloudPbx: true,
    head: true,
    ranges: [{ from: '8000', to: '8099' }],
    services: [{ name: 'Demo', licences: 1, used: 1 }],
    subscribers: [{ userId: holder.id, companyId: CO, shortNumber: '8001' }],
    devices: [{ id: 'd1', companyId: CO, key: 'aa:bb:cc:dd:ee:01', userId: holder.id }],
    ddis: [{ id: 'i1', companyId: CO, key: '+33298300501', userId: holder.id }],
    ...over,
  })

  it('each line sees what the lines before it freed: a deleted subscriber\'s short number, device, DDI and licence go to the next line', async () => {
    const entries = await plan([HEADER,
      `delete;${holder.loginEmail};;;;;`,
      'upsert;new@example.com;;8001;aa:bb:cc:dd:ee:01;+33298300501;Demo',
    ], { users: [holder], voice: voice() }, { endpoint: 'rainbowvoice' })
    expect(entries.map((e) => [e.outcome, e.voice])).toEqual([
      ['delete', { attached: [], detached: ['device aa:bb:cc:dd:ee:01', 'DDI +33298300501', 'subscriber 8001', 'service Demo'] }],
      ['create', { attached: ['subscriber 8001', 'device aa:bb:cc:dd:ee:01', 'DDI +33298300501', 'service Demo'], detached: [] }],
    ])
    const newId = (entries[1]!.ops[0] as Extract<Op, { kind: 'createUser' }>).userId
    expect(entries[0]!.ops.map((o) => o.kind)).toEqual(['release', 'release', 'unsubscribe', 'deleteUser'])
    expect(entries[1]!.ops.slice(1)).toEqual([
      { kind: 'subscribe', userId: newId, shortNumber: '8001', previous: null },
      { kind: 'hold', table: 'sip_devices', itemId: 'd1', userId: newId },
      { kind: 'hold', table: 'ddi_numbers', itemId: 'i1', userId: newId },
    ])
  })

  it('a failed line takes nothing: the licence and short number it asked for stay free for the next line', async () => {
    const entries = await plan([HEADER,
      'upsert;a@example.com;;8002;aa:bb:cc:dd:ee:99;;',
      'upsert;b@example.com;;8002;;;',
      `upsert;${holder.loginEmail};;8003;;;`,
    ], { users: [holder], voice: voice() }, { endpoint: 'rainbowvoice' })
    expect(entries.map((e) => e.errorCode ?? e.outcome)).toEqual([2007, 'create', 'attach'])
    expect(entries[2]!.voice).toEqual({ attached: ['subscriber 8003'], detached: ['subscriber 8001'] })
    expect(entries[2]!.ops).toEqual([{ kind: 'subscribe', userId: holder.id, shortNumber: '8003', previous: '8001' }])
  })
  it('a Cloud PBX of thousands of devices and DDIs: each is found by its own key and named and applied by its own id', async () => {
    const n = 3000
    const mac = (i: number) => ((i + 1) * 0x1f3d5b79a1 % 0xffffffffffff).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')
    const ddi = (i: number) => `+332${90_000_000 + 331 * i}`
    // newId-like ids (hex) and a few that are not, as the schema's char(24) allows
    const id = (t: string, i: number) => i % 500 === 7 ? `${t}-odd-${i}`.padEnd(24, '.') : (t === 'd' ? 'd' : 'e') + i.toString(16).padStart(23, '0')
    const inventory = voice({
      ranges: [{ from: '0000', to: '9999' }],
      services: [],
      subscribers: [],
      devices: [...Array.from({ length: n }, (_, i) => ({ id: id('d', i), companyId: CO, key: mac(i), userId: null })), { id: 'x1', companyId: OTHER_CO, key: 'ff:ff:ff:ff:ff:fe', userId: null }],
      ddis: [...Array.from({ length: n }, (_, i) => ({ id: id('i', i), companyId: CO, key: ddi(i), userId: null })), { id: 'x2', companyId: OTHER_CO, key: '+33298300599', userId: null }],
    })
    expect(mac(0)).toMatch(/^00:/)
    const lines = Array.from({ length: n }, (_, i) => `upsert;u${i}@example.com;;${String(i).padStart(4, '0')};${mac(i)};${ddi(i)};`)
    const entries = await plan([HEADER, ...lines,
      'upsert;late1@example.com;;9991;ff:ff:ff:ff:ff:fe;;',
      'upsert;late2@example.com;;9992;;+33298300599;',
      'upsert;late3@example.com;;9993;ff:ff:ff:ff:ff:fd;;',
      `upsert;late4@example.com;;9994;${mac(5)};;`,
    ], { users: [], voice: inventory }, { endpoint: 'rainbowvoice' })
    for (let i = 0; i < n; i++) {
      const e = entries[i]!
      expect(e.voice).toEqual({ attached: [`subscriber ${String(i).padStart(4, '0')}`, `device ${mac(i)}`, `DDI ${ddi(i)}`], detached: [] })
      expect(e.ops.slice(2).map((o) => 'itemId' in o ? o.itemId : undefined)).toEqual([id('d', i), id('i', i)])
    }
    expect(entries.slice(n).map((e) => e.errorCode)).toEqual([2008, 2014, 2007, 2009])
  })
})

describe('the Planner fed batch by batch (the streamed check)', () => {
  const carol = userRow('carol@example.com', { firstName: 'Carol' })
  const bob = userRow('bob@example.com')
  const dave = userRow('dave@example.com', { companyId: OTHER_CO })
  const numbers = [numberRow(PBX, '2000', carol.id), numberRow(PBX, '2001', bob.id), numberRow(PBX, '2002')]
  const lines = [
    SYNC_HEADER,
    'delete;carol@example.com;;;;;;;;',
    `upsert;new@example.com;${PASSWORD};New;Dev;t1;;basic;${PBX};2000`,
    'sync;bob@example.com;;Bob;;;;;;',
    'upsert;eve@example.com;;Eve;;;;;;2001',
    'upsert;dave@example.com;;Dave;;;;;;',
    'detach;ghost@example.com;;;;;;;;',
    'upsert;bad-email;;;;;;;;',
    'upsert;fay@example.com;;Fay;;;;;;2002',
  ]
  const all: Snapshot = { users: [carol, bob, dave], numbers, companyPbxIds: [PBX] }
  /** What loadSnapshot reads for these rows: their users, the numbers they name or their company users hold. */
  const partFor = (rows: readonly CsvRow[]): Snapshot => {
    const users = all.users.filter((u) => rows.some((r) => r.loginEmail === u.loginEmail))
    const holders = new Set(users.filter((u) => u.companyId === CO).map((u) => u.id))
    return { users, numbers: all.numbers.filter((n) => (n.userId !== null && holders.has(n.userId)) || rows.some((r) => r.values.pbxShortNumber === n.shortNumber)), companyPbxIds: [] }
  }

  it('plans exactly what planRows plans on the whole snapshot, whatever the batch size', async () => {
    const parsed = await parseCsv(`${lines.join('\n')}\n`, { endpoint: 'synchronize' })
    const opts = { companyId: CO, nostrict: false, mode: parsed.mode, caller: CALLER }
    const whole = shown(planRows(parsed.rows, parsed.errors, all, opts))
    expect(whole.map((e) => e.errorCode ?? e.outcome)).toEqual(['delete', 'create', 'update', 'create', 409600, 3101, 3010, 'create'])
    for (const size of [1, 2, 3]) {
      const planner = new Planner({ users: [], numbers: [], companyPbxIds: [PBX] }, opts)
      const errors = firstErrorByLine(parsed.errors)
      const streamed: PlanEntry[] = []
      for (let i = 0; i < parsed.rows.length; i += size) {
        const batch = parsed.rows.slice(i, i + size)
        planner.add(partFor(batch))
        for (const row of batch) streamed.push(planner.plan(row, errors.get(row.lineNumber)))
      }
      expect(shown(streamed)).toEqual(whole)
    }
  })

  it('what planning changed wins over a snapshot read before: a deleted user stays deleted, a moved number stays moved', async () => {
    const parsed = await parseCsv(`${[SYNC_HEADER, 'delete;carol@example.com;;;;;;;;', 'upsert;bob@example.com;;;;;;;;2000'].join('\n')}\n`, { endpoint: 'synchronize' })
    const planner = new Planner({ users: [carol, bob], numbers, companyPbxIds: [PBX] }, { companyId: CO, nostrict: false, mode: parsed.mode, caller: CALLER })
    for (const row of parsed.rows) planner.plan(row)
    planner.add({ users: [carol, bob], numbers, companyPbxIds: [] })
    const [update, detach] = [{ ...parsed.rows[0]!, action: 'update' as const }, { ...parsed.rows[1]!, action: 'detach' as const, values: {} }]
    expect(planner.plan(update)).toMatchObject({ status: 'failed', errorCode: 3101 })
    // bob took 2000 and gave up 2001 (force_attach frees the user's other numbers): he holds exactly 2000
    expect(planner.plan(detach)).toMatchObject({ status: 'success', device: { outcome: 'detach', shortNumber: '2000' } })
  })

  it('the answer\'s JSON of an entry is the entry without its ops, for every kind of entry', async () => {
    const parsed = await parseCsv(`${lines.join('\n')}\n`, { endpoint: 'synchronize' })
    const entries = planRows(parsed.rows, parsed.errors, all, { companyId: CO, nostrict: false, mode: parsed.mode, caller: CALLER })
    const warning = (await plan([USER_HEADER, 'delete;ghost@example.com;;;;;'], {}, { nostrict: true }))[0]!
    const unchanged = (await plan([USER_HEADER, 'update;carol@example.com;;Carol;;;'], { users: [carol] }))[0]!
    const keys = new Set<string>()
    for (const e of [...entries, warning, unchanged, { ...entries[1]!, set: [] }]) {
      expect(JSON.parse(entryJson(e))).toEqual(JSON.parse(JSON.stringify({ ...e, ops: undefined })))
      for (const k of Object.keys(e)) keys.add(k)
    }
    expect([...keys].sort()).toEqual(['action', 'changes', 'device', 'errorCode', 'errorMsg', 'lineNumber', 'loginEmail', 'ops', 'outcome', 'set', 'status', 'userId'])
  })
})
