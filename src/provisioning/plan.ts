/**
 * src/provisioning: what a checked CSV file does. check.ts checks a file against the company,
 * plan.ts (this file, pure) turns rows and the current state into operations, apply.ts writes
 * them through the repositories, reports.ts shapes the per-line results, codes.ts lists the plan
 * codes. It imports csv, db, util and errors; jobs, routes, notifications and openapi import it.
 */
import type { CsvRow, LineError, Mode } from '../csv/types.js'
import type { VoiceInventory } from '../db/cloudpbx-repository.js'
import type { PhoneNumberRow } from '../db/pbx-repository.js'
import type { PlannedUser } from '../db/users-repository.js'
import { newId } from '../util/ids.js'
import { PlanCodes } from './codes.js'
import { diffFields, requestedFields, type FieldChanges, type UserFields } from './fields.js'
import { LineFailure } from './line-failure.js'
import { VoicePlanner, type Profile, type VoiceOp, type VoicePlan } from './voice-plan.js'

export type Op =
  | { kind: 'createUser', userId: string, loginEmail: string, fields: UserFields, password: string | null }
  | { kind: 'updateUser', userId: string, fields: UserFields, password: string | null, clearPassword?: true }
  | { kind: 'deleteUser', userId: string }
  | { kind: 'attach', numberId: string, userId: string, internalNumber: string | null, number: string | null }
  | { kind: 'detach', numberId: string }
  | RevertOp
  | VoiceOp

/** What only a revert does (revert-plan.ts): bring a deleted user back, put a number back as it was. */
export type RevertOp =
  | { kind: 'restoreUser', userId: string, loginEmail: string }
  | { kind: 'restoreNumber', numberId: string, userId: string | null, internalNumber: string | null, number: string | null, attachedAt: string | null }

/** `restore`: a revert line that brings back a user the import deleted. */
export type Outcome = 'create' | 'update' | 'unchanged' | 'delete' | 'restore' | 'attach' | 'force_attach' | 'detach' | 'error'

export interface DevicePlan {
  outcome: 'attach' | 'force_attach' | 'detach' | 'unchanged'
  pbxId?: string
  shortNumber?: string
  /** Who held the number before a force_attach. */
  previousHolder?: string
  /** Numbers this line frees, as pbxId/shortNumber. */
  detached?: string[]
}

export interface PlanEntry {
  lineNumber: number
  action: string
  loginEmail: string
  outcome: Outcome
  status: 'success' | 'warning' | 'failed'
  userId?: string
  /** update and unchanged: each field that would change, old → new (a password only as "set"). */
  changes?: FieldChanges
  /** create: the fields the new user would get, by name (the values are the line's, normalised as validated). */
  set?: string[]
  device?: DevicePlan
  /** rainbowvoice: the subscriber, SIP device, DDI and service licences the line takes or frees. */
  voice?: VoicePlan
  errorCode?: number
  errorMsg?: string
  /** What applying the line does; empty for errors, warnings and unchanged lines. */
  ops: Op[]
}

/** The rows of the database a file touches, loaded before planning (see snapshot.ts). */
export interface Snapshot {
  users: PlannedUser[]
  numbers: PhoneNumberRow[]
  companyPbxIds: string[]
  /** The Rainbow Voice inventory the lines involve (rainbowvoice files, and deletes of any mode). */
  voice?: VoiceInventory
}

/**
 * Who the lines act for (D12): a line may change only users of a rank up to the caller's own
 * (users-repository `roleRank`). `rank` -1 is a caller with no rights left (no longer an
 * administrator of the company, deactivated or deleted since the file was accepted): every line fails.
 */
export interface Caller { id: string, rank: number }

export interface PlanOptions { companyId: string, nostrict: boolean, mode: Mode, caller: Caller }

interface UserState { id: string, companyId: string, rank: number, row: PlannedUser | undefined }

const numberLabel = (n: PhoneNumberRow) => `${n.pbxId}/${n.shortNumber}`

/**
 * Decides, line by line and in file order, what a file would do to the company: pure, so the
 * check shows exactly what the import will apply (the import plans each chunk again against the
 * rows it has locked). Each line sees the effects of the lines before it.
 */
export function planRows (rows: readonly CsvRow[], errors: readonly LineError[], snapshot: Snapshot, opts: PlanOptions): PlanEntry[] {
  const planner = new Planner(snapshot, opts)
  const errorsByLine = firstErrorByLine(errors)
  return rows.map((row) => planner.plan(row, errorsByLine.get(row.lineNumber)))
}

/** The first error of each line: the one a failed line's plan entry reports. */
export function firstErrorByLine (errors: readonly LineError[]): Map<number, LineError> {
  const byLine = new Map<number, LineError>()
  for (const e of errors) if (!byLine.has(e.lineNumber)) byLine.set(e.lineNumber, e)
  return byLine
}

/**
 * Login e-mails are unique across companies (D10), so a create must fail on another company's user;
 * the words are the same wherever the e-mail is taken, so they tell nothing of other companies.
 */
function unavailable (loginEmail: string): LineFailure {
  return new LineFailure(PlanCodes.userAlreadyExists, `login e-mail ${loginEmail} is not available`)
}

function failed (row: CsvRow, code: number, message: string): PlanEntry {
  return { lineNumber: row.lineNumber, action: row.action, loginEmail: row.loginEmail, outcome: 'error', status: 'failed', errorCode: code, errorMsg: message, ops: [] }
}

/**
 * The state planning carries from line to line. planRows plans a whole snapshot at once; the check
 * streams: it adds the rows of each batch's lines (`add`) and plans them one by one (`plan`).
 */
export class Planner {
  private readonly users = new Map<string, UserState | null>()
  // Indexed, not scanned: a streamed check of a large device file holds tens of thousands of numbers,
  // and every line looks some up. `order` keeps the snapshot's order wherever a line lists several.
  private readonly order = new Map<PhoneNumberRow, number>()
  private readonly byId = new Set<string>()
  private readonly byShort = new Map<string, PhoneNumberRow[]>()
  private readonly byHolder = new Map<string, Set<PhoneNumberRow>>()
  private readonly pbxIds = new Set<string>()
  // The rank of each holder a number may be taken from, known or planned (a user created by the file
  // is a plain user). Only `attach` reads it, which a Rainbow Voice file never runs: there it stays
  // empty (150,000 entries for a 100,000-line file otherwise).
  private readonly rankById = new Map<string, number>()
  private readonly ranks: boolean
  private readonly voice: VoicePlanner

  constructor (snapshot: Snapshot, private readonly opts: PlanOptions) {
    this.voice = new VoicePlanner(opts.companyId)
    this.ranks = opts.mode !== 'rainbowvoice'
    this.add(snapshot)
  }

  /**
   * More of the database, for lines not planned yet. What planning already knows wins: a user or a
   * number seen before may have been changed by an earlier line, and the database does not know it.
   */
  add (more: Snapshot): void {
    for (const u of more.users) {
      if (this.users.has(u.loginEmail)) continue
      // The company's own id rather than a copy per user: a large company's rows hold tens of thousands.
      const companyId = u.companyId === this.opts.companyId ? this.opts.companyId : u.companyId
      this.users.set(u.loginEmail, { id: u.id, companyId, rank: u.roleRank, row: u })
      if (this.ranks) this.rankById.set(u.id, u.roleRank)
    }
    for (const n of more.numbers) {
      if (this.ranks && n.userId && n.holderRank != null && !this.rankById.has(n.userId)) this.rankById.set(n.userId, n.holderRank)
      if (this.byId.has(n.id)) continue
      this.byId.add(n.id)
      // A copy: planning moves numbers between holders without touching the snapshot.
      const copy = { ...n }
      this.order.set(copy, this.order.size)
      const same = this.byShort.get(copy.shortNumber)
      if (same) same.push(copy)
      else this.byShort.set(copy.shortNumber, [copy])
      if (copy.userId) this.holderSet(copy.userId).add(copy)
    }
    for (const id of more.companyPbxIds) this.pbxIds.add(id)
    if (more.voice) this.voice.add(more.voice)
  }

  /** Whether planning knows this login e-mail already (read, created or deleted): a later batch need not read it. */
  knowsUser (loginEmail: string): boolean {
    return this.users.has(loginEmail)
  }

  /** Whether planning holds this device or DDI already: a later batch need not read it. */
  knowsVoiceItem (table: 'sip_devices' | 'ddi_numbers', key: string): boolean {
    return this.voice.knows(table, key)
  }

  /** rainbowvoice: the licences of each offer of the company's Cloud PBX (VoicePlanner.profiles). */
  profiles (): Record<string, Profile> {
    return this.voice.profiles()
  }

  /** One line, given its first validation error if it has one. */
  plan (row: CsvRow, invalid?: LineError): PlanEntry {
    if (!row.valid || invalid) return failed(row, invalid?.code ?? PlanCodes.applyFailed, invalid?.message ?? 'invalid line')
    try {
      return this.line(row)
    } catch (err) {
      if (!(err instanceof LineFailure)) throw err
      return err.warning
        ? { lineNumber: row.lineNumber, action: row.action, loginEmail: row.loginEmail, outcome: 'unchanged', status: 'warning', errorCode: err.code, errorMsg: err.message, ops: [] }
        : failed(row, err.code, err.message)
    }
  }

  private line (row: CsvRow): PlanEntry {
    if (this.opts.caller.rank < 0) throw new LineFailure(PlanCodes.outsideCallerRights, 'the administrator who sent this file no longer has the rights to apply it')
    if (this.opts.mode === 'rainbowvoice') return this.voiceLine(row)
    switch (row.action) {
      case 'create': return this.entry(row, this.create(row))
      case 'update': return this.entry(row, this.update(row, this.companyUser(row.loginEmail), false))
      case 'upsert':
      case 'sync': return this.entry(row, this.upsert(row))
      case 'delete': return this.entry(row, this.remove(row))
      case 'attach':
      case 'force_attach': return this.entry(row, this.attach(row, this.companyUser(row.loginEmail), row.action === 'force_attach'))
      case 'detach': return this.entry(row, this.detach(row, this.companyUser(row.loginEmail)))
    }
  }

  // Set on the fresh part, not { ...base, ...part }: merging two spreads cost about 5 µs a line,
  // the largest cost of planning a 100,000-line file (and Object.assign of a literal, one more object).
  private entry (row: CsvRow, part: Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail' | 'status'>): PlanEntry {
    const e = part as PlanEntry
    e.lineNumber = row.lineNumber
    e.action = row.action
    e.loginEmail = row.loginEmail
    e.status = 'success'
    return e
  }

  private companyUser (loginEmail: string): UserState {
    const u = this.users.get(loginEmail)
    if (!u || u.companyId !== this.opts.companyId) throw new LineFailure(PlanCodes.userNotFound, `no user ${loginEmail} in this company`)
    return this.manageable(u, loginEmail)
  }

  /** D12: the message names no role, so a caller learns nothing of ranks it cannot grant. */
  private manageable (u: UserState, loginEmail: string): UserState {
    if (u.rank > this.opts.caller.rank) throw new LineFailure(PlanCodes.outsideCallerRights, `user ${loginEmail} is managed by an administrator above you: you may not change it`)
    return u
  }

  /** `requested`: the line's fields when the caller has them already (requestedFields without applyEmpty). */
  private create (row: CsvRow, requested?: UserFields): Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail' | 'status'> {
    const existing = this.users.get(row.loginEmail)
    if (existing) {
      if (this.opts.nostrict && existing.companyId === this.opts.companyId) return this.update(row, existing, false)
      throw unavailable(row.loginEmail)
    }
    const fields = requested ?? requestedFields(row.values, false, undefined)
    const userId = newId()
    // A CSV never grants a role: whoever sends it, a created user is a plain user.
    this.users.set(row.loginEmail, { id: userId, companyId: this.opts.companyId, rank: 0, row: undefined })
    if (this.ranks) this.rankById.set(userId, 0)
    // A new user has no old values: naming the fields says it all, at a fraction of the size.
    const set = Object.keys(fields)
    if (row.values.password) set.push('password')
    return { outcome: 'create', set, ops: [{ kind: 'createUser', userId, loginEmail: row.loginEmail, fields, password: row.values.password ?? null }] }
  }

  private update (row: CsvRow, user: UserState, applyEmpty: boolean, requested?: UserFields) {
    this.manageable(user, row.loginEmail)
    const fields = requested ?? requestedFields(row.values, applyEmpty, user.row)
    const changes = diffFields(fields, user.row)
    const password = row.values.password ?? null
    // Never the value, and never `from: null`: that would say the user had no password.
    if (password) changes.password = { from: 'hidden', to: 'changed' }
    let changed = false
    const changedFields: UserFields = {}
    for (const k in changes) {
      changed = true
      if (k !== 'password') (changedFields as Record<string, unknown>)[k] = fields[k as keyof UserFields]
    }
    return {
      outcome: changed ? 'update' as const : 'unchanged' as const,
      userId: user.id,
      changes,
      ops: changed ? [{ kind: 'updateUser' as const, userId: user.id, fields: changedFields, password }] as Op[] : [],
    }
  }

  private upsert (row: CsvRow): Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail' | 'status'> {
    const sync = row.action === 'sync'
    const existing = this.users.get(row.loginEmail)
    if (existing && existing.companyId !== this.opts.companyId) throw unavailable(row.loginEmail)
    const user = existing ? this.update(row, existing, sync) : this.create(row)
    const state = this.users.get(row.loginEmail)!
    const v = row.values
    let device: DevicePlan | undefined
    let deviceOps: Op[] = []
    if (v.pbxShortNumber) {
      const planned = this.attach(row, state, true)
      device = planned.device
      deviceOps = planned.ops
    } else if (sync && 'pbxShortNumber' in v) {
      const held = this.heldBy(state.id)
      if (held.length > 0) {
        deviceOps = held.map((n) => this.release(n))
        device = { outcome: 'detach', detached: held.map(numberLabel) }
      }
    }
    // A line that leaves the user as is but moves a number does something: say what.
    const outcome: Outcome = user.outcome === 'unchanged' && device && device.outcome !== 'unchanged' ? device.outcome : user.outcome
    return Object.assign(user, { outcome, userId: existing ? state.id : undefined, ops: [...user.ops, ...deviceOps] }, device ? { device } : {})
  }

  private remove (row: CsvRow): Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail' | 'status'> {
    const user = this.users.get(row.loginEmail)
    if (!user || user.companyId !== this.opts.companyId) {
      throw new LineFailure(PlanCodes.userNotFound, `no user ${row.loginEmail} in this company`, this.opts.nostrict)
    }
    this.manageable(user, row.loginEmail)
    if (user.id === this.opts.caller.id) throw new LineFailure(PlanCodes.outsideCallerRights, `${row.loginEmail} is your own account: it cannot be deleted by a file you send`)
    const held = this.heldBy(user.id)
    const ops: Op[] = held.map((n) => this.release(n))
    const voice = this.voice.releaseAll(user.id, user.row?.services ?? [])
    ops.push(...voice.ops, { kind: 'deleteUser', userId: user.id })
    // null, not deleted: `add` must not bring the user back from a snapshot read before this line.
    this.users.set(row.loginEmail, null)
    return {
      outcome: 'delete',
      userId: user.id,
      ...(held.length > 0 ? { device: { outcome: 'detach' as const, detached: held.map(numberLabel) } } : {}),
      ...(voice.plan.detached.length > 0 ? { voice: voice.plan } : {}),
      ops,
    }
  }

  /** Rainbow Voice (contract §4): upsert, delete and detach of a subscriber and what it holds. */
  private voiceLine (row: CsvRow): PlanEntry {
    if (row.action === 'delete') return this.entry(row, this.remove(row))
    if (row.action === 'detach') {
      const user = this.companyUser(row.loginEmail)
      const services = (row.values.services ?? []).filter((s): s is string => !!s)
      const kept = (user.row?.services ?? []).filter((s) => !services.includes(s))
      const voice = this.voice.detach(row, user.id)
      const freed = (user.row?.services ?? []).filter((s) => services.includes(s))
      const ops: Op[] = [...voice.ops]
      if (freed.length > 0) {
        ops.push({ kind: 'updateUser', userId: user.id, fields: { services: kept }, password: null })
        voice.plan.detached.push(...this.voice.freeLicences(freed))
      }
      return this.entry(row, { outcome: ops.length > 0 ? 'detach' : 'unchanged', userId: user.id, voice: voice.plan, ops })
    }
    const existing = this.users.get(row.loginEmail)
    if (existing && existing.companyId !== this.opts.companyId) throw unavailable(row.loginEmail)
    if (existing) this.manageable(existing, row.loginEmail)
    const before = existing?.row?.services ?? []
    // Computed once for the licences and the user's changes alike (a create has no existing row).
    const requested = requestedFields(row.values, false, existing?.row)
    const after = requested.services ?? before
    const commit = this.voice.upsert(row, existing?.id, { before, after }, existing ? this.heldBy(existing.id).length > 0 : false)
    const user: Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail' | 'status'> = existing ? this.update(row, existing, false, requested) : this.create(row, requested)
    const id = existing ? existing.id : this.users.get(row.loginEmail)!.id
    const voice = commit(id)
    if (user.outcome === 'unchanged' && voice.ops.length > 0) user.outcome = 'attach'
    user.userId = existing ? id : undefined
    user.voice = voice.plan
    for (const op of voice.ops) user.ops.push(op)
    return this.entry(row, user)
  }

  private attach (row: CsvRow, user: UserState, force: boolean): { outcome: Outcome, userId: string, device: DevicePlan, ops: Op[] } {
    const target = this.resolveNumber(row)
    const v = row.values
    const internalNumber = v.pbxInternalNumber ?? target.internalNumber
    const number = v.number ?? target.number
    const where = { pbxId: target.pbxId, shortNumber: target.shortNumber }
    const others = this.heldBy(user.id).filter((n) => n.id !== target.id)
    if (target.userId === user.id && others.length === 0) {
      const same = internalNumber === target.internalNumber && number === target.number
      const ops: Op[] = same ? [] : [{ kind: 'attach', numberId: target.id, userId: user.id, internalNumber, number }]
      target.internalNumber = internalNumber
      target.number = number
      return { outcome: same ? 'unchanged' : 'attach', userId: user.id, device: { outcome: same ? 'unchanged' : 'attach', ...where }, ops }
    }
    if (!force) {
      if (target.userId && target.userId !== user.id) throw new LineFailure(PlanCodes.extensionAssociatedToAnotherUser, `${numberLabel(target)} is attached to another user`)
      if (others.length > 0) throw new LineFailure(PlanCodes.userAlreadyAssociatedToExtension, `${row.loginEmail} already has ${others.map(numberLabel).join(', ')}`)
    }
    const ops: Op[] = others.map((n) => this.release(n))
    const previousHolder = target.userId && target.userId !== user.id ? target.userId : undefined
    // A holder the planner knows nothing of is treated as out of reach: refusing is the safe mistake.
    if (previousHolder && (this.rankById.get(previousHolder) ?? Infinity) > this.opts.caller.rank) {
      throw new LineFailure(PlanCodes.outsideCallerRights, `${numberLabel(target)} is held by a user managed by an administrator above you: it cannot be taken`)
    }
    if (previousHolder) ops.push(this.release(target))
    ops.push({ kind: 'attach', numberId: target.id, userId: user.id, internalNumber, number })
    this.setHolder(target, user.id)
    Object.assign(target, { internalNumber, number })
    const outcome = force && (previousHolder || others.length > 0) ? 'force_attach' as const : 'attach' as const
    return {
      outcome,
      userId: user.id,
      device: { outcome, ...where, ...(previousHolder ? { previousHolder } : {}), ...(others.length > 0 ? { detached: others.map(numberLabel) } : {}) },
      ops,
    }
  }

  private detach (row: CsvRow, user: UserState) {
    const held = this.heldBy(user.id)
    let target: PhoneNumberRow
    if (row.values.pbxShortNumber) {
      const named = this.resolveNumber(row)
      if (named.userId !== user.id) throw new LineFailure(PlanCodes.userHasNoExtension, `${row.loginEmail} does not hold ${numberLabel(named)}`)
      target = named
    } else {
      if (held.length === 0) throw new LineFailure(PlanCodes.userHasNoExtension, `${row.loginEmail} holds no extension`)
      if (held.length > 1) throw new LineFailure(PlanCodes.userHasTooManyExtensions, `${row.loginEmail} holds ${held.length} extensions (${held.map(numberLabel).join(', ')}): name one with pbxShortNumber`)
      target = held[0]!
    }
    return { outcome: 'detach' as const, userId: user.id, device: { outcome: 'detach' as const, pbxId: target.pbxId, shortNumber: target.shortNumber }, ops: [this.release(target)] }
  }

  /** D11: by pbxId + short number, or by short number within the company when it is unique. */
  private resolveNumber (row: CsvRow): PhoneNumberRow {
    const short = row.values.pbxShortNumber
    if (!short) throw new LineFailure(PlanCodes.extensionHasNoIdentifier, 'pbxShortNumber is required for this action')
    const pbxId = row.values.pbxId
    if (pbxId) {
      if (!this.pbxIds.has(pbxId)) throw new LineFailure(PlanCodes.extensionNotLinkedToEquipment, `no PBX ${pbxId} in this company`)
      const found = this.byShort.get(short)?.find((n) => n.companyId === this.opts.companyId && n.pbxId === pbxId)
      if (!found) throw new LineFailure(PlanCodes.extensionDoesNotExist, `no extension ${short} on PBX ${pbxId}`)
      return found
    }
    const candidates = (this.byShort.get(short) ?? []).filter((n) => n.companyId === this.opts.companyId)
    if (candidates.length === 0) throw new LineFailure(PlanCodes.extensionDoesNotExist, `no extension ${short} in this company`)
    if (candidates.length > 1) throw new LineFailure(PlanCodes.nonUniqueEquipmentForExtension, `extension ${short} exists on ${candidates.map((n) => n.pbxId).join(', ')}: name the PBX with pbxId`)
    return candidates[0]!
  }

  private heldBy (userId: string): PhoneNumberRow[] {
    const held = this.byHolder.get(userId)
    return held ? [...held].sort((a, b) => this.order.get(a)! - this.order.get(b)!) : []
  }

  private holderSet (userId: string): Set<PhoneNumberRow> {
    let held = this.byHolder.get(userId)
    if (!held) this.byHolder.set(userId, held = new Set())
    return held
  }

  private setHolder (n: PhoneNumberRow, userId: string | null): void {
    if (n.userId) this.byHolder.get(n.userId)?.delete(n)
    n.userId = userId
    if (userId) this.holderSet(userId).add(n)
  }

  private release (n: PhoneNumberRow): Op {
    this.setHolder(n, null)
    return { kind: 'detach', numberId: n.id }
  }
}
