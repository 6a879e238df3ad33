import { describe, expect, it } from 'vitest'
import type { NumberNow, UserNow } from '../../src/db/revert-repository.js'
import type { LineResult } from '../../src/provisioning/apply.js'
import { PlanCodes } from '../../src/provisioning/codes.js'
import type { PlanEntry } from '../../src/provisioning/plan.js'
import { RevertPlanner, type RevertLine } from '../../src/provisioning/revert-plan.js'
import { recordUndos } from '../../src/provisioning/undo.js'
import { newId } from '../../src/util/ids.js'

// The before-images a chunk records (undo.ts) and how a revert plans them (revert-plan.ts), without a database.

const COMPANY = newId()
const admin = { id: newId(), rank: 1 }

function user (over: Partial<UserNow> = {}): UserNow {
  const empty = Object.fromEntries(['title', 'lastName', 'nickName', 'department', 'userInfo1', 'userInfo2', 'country', 'language', 'timezone',
    'visibility', 'authenticationType', 'selectedAppCustomisationTemplateName', 'photoUrl', 'ldapId', 'passwordHash'].map((k) => [k, null]))
  const lists = Object.fromEntries(['tags', 'services', 'emails', 'phoneNumbers'].map((k) => [k, []]))
  const base = { id: newId(), companyId: COMPANY, loginEmail: `u-${newId().slice(-6)}@example.com`, deleted: false, roleRank: 0 }
  return { ...empty, ...lists, ...base, firstName: 'First', jobTitle: 'Job', accountType: 'free', isInitialized: false, ...over } as UserNow
}
const number = (over: Partial<NumberNow> = {}): NumberNow => ({ id: newId(), companyId: COMPANY, pbxId: 'PBX', shortNumber: '2000', userId: null, internalNumber: null, number: null, attachedAt: null, ...over })
const ok = (e: PlanEntry): LineResult => ({ lineNumber: e.lineNumber, status: 'success', userId: null, errorCode: null, errorMsg: null })
const entry = (lineNumber: number, ops: PlanEntry['ops']): PlanEntry => ({ lineNumber, action: 'upsert', loginEmail: 'x@example.com', outcome: 'update', status: 'success', ops })

/** The revert line of each entry, as the job stores it, planned against `users` and `numbers` as they are after the import. */
function revertOf (entries: PlanEntry[], before: { users: UserNow[], numbers: NumberNow[] }) {
  const undos = recordUndos(before, entries, entries.map(ok), () => null)
  return entries.map((e, i): RevertLine => ({ lineNumber: e.lineNumber, action: e.action, loginEmail: e.loginEmail, undo: undos[i] ?? null })).reverse()
}

describe('before-images and the revert plan', () => {
  it('a line that released Rainbow Voice resources is recorded irreversible and its revert line fails with 3115', () => {
    const u = user()
    const [line] = revertOf([entry(2, [{ kind: 'unsubscribe', userId: u.id, shortNumber: '8001' }, { kind: 'deleteUser', userId: u.id }])], { users: [u], numbers: [] })
    expect(line!.undo).toEqual({ irreversible: 'voice' })
    const planner = new RevertPlanner({ companyId: COMPANY, caller: admin })
    planner.add({ users: [{ ...u, deleted: true }], numbers: [], emails: [], owners: new Map() })
    expect(planner.plan(line!)).toMatchObject({ status: 'failed', errorCode: PlanCodes.revertNotReversible, ops: [] })
  })

  it('a line already as its line found it plans nothing (a revert resumed after a crash undoes nothing twice)', () => {
    const u = user()
    const n = number({ userId: u.id, attachedAt: '2026-01-01T00:00:00.000000Z' })
    const lines = revertOf([entry(2, [{ kind: 'updateUser', userId: u.id, fields: { firstName: 'Changed' }, password: null }, { kind: 'detach', numberId: n.id }])], { users: [u], numbers: [n] })
    const planner = new RevertPlanner({ companyId: COMPANY, caller: admin })
    // The database as the import left it: the line is undone.
    planner.add({ users: [{ ...u, firstName: 'Changed' }], numbers: [{ ...n, userId: null, attachedAt: null }], emails: [], owners: new Map() })
    const undo = planner.plan(lines[0]!)
    expect(undo).toMatchObject({ outcome: 'update', status: 'success', changes: { firstName: { from: 'Changed', to: 'First' } } })
    expect(undo.ops).toEqual([
      { kind: 'updateUser', userId: u.id, fields: { firstName: 'First' }, password: null },
      { kind: 'restoreNumber', numberId: n.id, userId: u.id, internalNumber: null, number: null, attachedAt: '2026-01-01T00:00:00.000000Z' },
    ])
    // The database as the revert left it: nothing left to do.
    const again = new RevertPlanner({ companyId: COMPANY, caller: admin })
    again.add({ users: [u], numbers: [n], emails: [], owners: new Map() })
    expect(again.plan(lines[0]!)).toMatchObject({ outcome: 'unchanged', status: 'success', ops: [] })
  })

  it('D12: a user above the caller\'s rank, or a caller without rights, fails the line with 3102', () => {
    const boss = user({ roleRank: 2 })
    const [line] = revertOf([entry(2, [{ kind: 'updateUser', userId: boss.id, fields: { jobTitle: 'New' }, password: null }])], { users: [boss], numbers: [] })
    const now = { users: [{ ...boss, jobTitle: 'New' }], numbers: [], emails: [], owners: new Map() }
    const planner = new RevertPlanner({ companyId: COMPANY, caller: admin })
    planner.add(now)
    expect(planner.plan(line!)).toMatchObject({ status: 'failed', errorCode: PlanCodes.outsideCallerRights })
    const gone = new RevertPlanner({ companyId: COMPANY, caller: { id: admin.id, rank: -1 } })
    gone.add(now)
    expect(gone.plan(line!)).toMatchObject({ status: 'failed', errorCode: PlanCodes.outsideCallerRights })
  })

  it('lines of one chunk record what each found: the second line\'s image starts where the first left the user', () => {
    const u = user()
    const undos = recordUndos({ users: [u], numbers: [] }, [
      entry(2, [{ kind: 'updateUser', userId: u.id, fields: { firstName: 'A' }, password: null }]),
      entry(3, [{ kind: 'updateUser', userId: u.id, fields: { firstName: 'B' }, password: 'x' }]),
    ], [ok(entry(2, [])), ok(entry(3, []))], (n) => n === 3 ? 'hash-3' : null)
    expect(undos).toEqual([
      { users: [{ id: u.id, loginEmail: u.loginEmail, live: { from: true, to: true }, fields: { firstName: { from: 'First', to: 'A' } } }], numbers: [] },
      { users: [{ id: u.id, loginEmail: u.loginEmail, live: { from: true, to: true }, fields: { firstName: { from: 'A', to: 'B' } }, passwordHash: { from: null, to: 'hash-3' } }], numbers: [] },
    ])
  })
})
