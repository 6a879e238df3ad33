import type { CsvRow } from '../csv/types.js'
import type { InventoryItem, NumberRange, VoiceInventory } from '../db/cloudpbx-repository.js'
import type { VoiceCounts } from '../db/imports-repository.js'
import { PlanCodes } from './codes.js'
import { LineFailure } from './line-failure.js'

export type VoiceTable = 'sip_devices' | 'ddi_numbers'

/** What applying a Rainbow Voice line does to the Cloud PBX (apply.ts). */
export type VoiceOp =
  | { kind: 'subscribe', userId: string, shortNumber: string, previous: string | null }
  | { kind: 'unsubscribe', userId: string, shortNumber: string }
  | { kind: 'hold', table: VoiceTable, itemId: string, userId: string }
  | { kind: 'release', table: VoiceTable, itemId: string }

/** The plan entry's account of it: `subscriber 8001`, `device aa:bb:…`, `DDI +33…`, `service Enterprise Demo`. */
export interface VoicePlan { attached: string[], detached: string[] }

interface Item { id: string, companyId: string, key: string, userId: string | null }
interface Offer { licences: number, used: number, before: number, refused: number }

/** One service offer's licences (contract §3.1/§3.4 `profiles`, keyed by offer name). */
export interface Profile { name: string, valid: boolean, assignedBefore?: number, assignedAfter: number, max: number }

const label = { sip_devices: 'device', ddi_numbers: 'DDI' } as const

/** Rainbow Voice state carried from line to line, beside the users and PBX numbers of the Planner (plan.ts). */
export class VoicePlanner {
  private hasCloudPbx = false
  private ranges: NumberRange[] = []
  private readonly offers = new Map<string, Offer>()
  // Users and short numbers whose subscription planning knows; null: known to have none (a later
  // snapshot does not overwrite what planning knows). Null markers, not a Set of "u:"/"s:" keys
  // beside the maps: that Set cost two concatenated strings per line of a 100,000-line file.
  private readonly shortOf = new Map<string, string | null>()
  private readonly holderOf = new Map<string, string | null>()
  private readonly items: Record<VoiceTable, Map<string, Item>> = { sip_devices: new Map(), ddi_numbers: new Map() }
  private readonly held: Record<VoiceTable, Map<string, Item>> = { sip_devices: new Map(), ddi_numbers: new Map() }

  constructor (private readonly companyId: string) {}

  add (inv: VoiceInventory): void {
    if (!inv.hasCloudPbx) return
    this.hasCloudPbx = true
    if (inv.head) this.ranges = inv.ranges
    for (const s of inv.services) if (!this.offers.has(s.name)) this.offers.set(s.name, { licences: s.licences, used: s.used, before: s.used, refused: 0 })
    for (const s of inv.subscribers) {
      if (this.shortOf.has(s.userId) || this.holderOf.has(s.shortNumber)) continue
      this.shortOf.set(s.userId, s.shortNumber)
      this.holderOf.set(s.shortNumber, s.userId)
    }
    const addItems = (table: VoiceTable, rows: readonly InventoryItem[]) => {
      for (const r of rows) {
        if (this.items[table].has(r.key)) continue
        // A copy: planning moves items between holders without touching the inventory read.
        const item = { id: r.id, companyId: r.companyId, key: r.key, userId: r.userId }
        this.items[table].set(r.key, item)
        if (item.userId && !this.held[table].has(item.userId)) this.held[table].set(item.userId, item)
      }
    }
    addItems('sip_devices', inv.devices)
    addItems('ddi_numbers', inv.ddis)
  }

  /** Whether planning holds this device or DDI already (read before, or the whole inventory was). */
  knows (table: VoiceTable, key: string): boolean {
    return this.items[table].has(key)
  }

  /**
   * Every offer of the company's Cloud PBX: licences in use when planning started, after the lines
   * planned so far that do not fail (the counts that give 403610), and how many there are. `valid`
   * is false when a line was refused a licence of it (403610) or more are in use than there are.
   */
  profiles (): Record<string, Profile> {
    const out: Record<string, Profile> = {}
    for (const [name, o] of [...this.offers].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
      out[name] = { name, valid: o.refused === 0 && o.used <= o.licences, assignedBefore: o.before, assignedAfter: o.used, max: o.licences }
    }
    return out
  }

  /**
   * Checks an upsert's Rainbow Voice cells against the state (throws the line's 20xx code) and
   * returns what commits it once the user is planned. `userId` is undefined for a user the line creates.
   */
  upsert (row: CsvRow, userId: string | undefined, services: { before: readonly string[], after: readonly string[] } | undefined, holdsPbxNumber: boolean): (userId: string) => { ops: VoiceOp[], plan: VoicePlan } {
    const v = row.values
    const short = v.shortNumber ?? null
    if ((short ?? v.macAddress ?? v.ddiE164Number) && !this.hasCloudPbx) throw this.noCloudPbx()
    const current = userId === undefined ? undefined : this.shortOf.get(userId) ?? undefined
    let subscribe: { shortNumber: string, previous: string | null } | undefined
    if (short !== null && short !== current) {
      if (!this.inPlan(short)) throw new LineFailure(PlanCodes.shortNumberNotInNumberingPlan, `short number ${short} is not in the numbering plan of the company's Cloud PBX`)
      const holder = this.holderOf.get(short)
      if (holder != null && holder !== userId) throw new LineFailure(PlanCodes.shortNumberAlreadyAssigned, `short number ${short} is already assigned to another subscriber of the company`)
      if (current === undefined && holdsPbxNumber) throw new LineFailure(PlanCodes.userAlreadyInAnotherPbx, `${row.loginEmail} already holds an extension of another PBX: detach it first`)
      subscribe = { shortNumber: short, previous: current ?? null }
    }
    const subscriber = current !== undefined || subscribe !== undefined
    const device = this.toHold('sip_devices', v.macAddress ?? null, userId, subscriber, row.loginEmail)
    const ddi = this.toHold('ddi_numbers', v.ddiE164Number ?? null, userId, subscriber, row.loginEmail)
    const licences = services ? this.licences(services.before, services.after, v.services ?? []) : { added: [], removed: [] }
    return (uid) => {
      const ops: VoiceOp[] = []
      const plan: VoicePlan = { attached: [], detached: [] }
      if (subscribe) {
        if (subscribe.previous !== null) this.holderOf.set(subscribe.previous, null)
        this.shortOf.set(uid, subscribe.shortNumber)
        this.holderOf.set(subscribe.shortNumber, uid)
        ops.push({ kind: 'subscribe', userId: uid, shortNumber: subscribe.shortNumber, previous: subscribe.previous })
        plan.attached.push(`subscriber ${subscribe.shortNumber}`)
        if (subscribe.previous !== null) plan.detached.push(`subscriber ${subscribe.previous}`)
      }
      if (device) this.hold('sip_devices', device, uid, ops, plan)
      if (ddi) this.hold('ddi_numbers', ddi, uid, ops, plan)
      for (const name of licences.added) { this.offers.get(name)!.used++; plan.attached.push(`service ${name}`) }
      for (const name of licences.removed) { this.offers.get(name)!.used--; plan.detached.push(`service ${name}`) }
      return { ops, plan }
    }
  }

  private hold (table: VoiceTable, item: Item, userId: string, ops: VoiceOp[], plan: VoicePlan): void {
    this.setHolder(table, item, userId)
    ops.push({ kind: 'hold', table, itemId: item.id, userId })
    plan.attached.push(`${label[table]} ${item.key}`)
  }

  /**
   * detach names the user's subscriber by its short number (2018 without it). With a MAC address or a
   * DDI, only those are released; with neither, the subscriber and everything it holds.
   */
  detach (row: CsvRow, userId: string): { ops: VoiceOp[], plan: VoicePlan } {
    if (!this.hasCloudPbx) throw this.noCloudPbx()
    const v = row.values
    const current = this.shortOf.get(userId) ?? undefined
    if (current === undefined && v.ddiE164Number) throw new LineFailure(PlanCodes.ddiDetachForNonSubscriber, `${row.loginEmail} is not a Rainbow Voice subscriber: it holds no DDI to detach`)
    if (current === undefined || current !== v.shortNumber) throw new LineFailure(PlanCodes.subscriberNotTheUsers, `subscriber ${v.shortNumber ?? ''} is not ${row.loginEmail}'s`)
    const named: Array<[VoiceTable, Item]> = []
    for (const [table, key] of [['sip_devices', v.macAddress], ['ddi_numbers', v.ddiE164Number]] as const) {
      if (!key) continue
      const item = this.find(table, key)
      if (item.userId !== null && item.userId !== userId) throw this.heldByAnother(table, key)
      if (item.userId === userId) named.push([table, item])
    }
    if (v.macAddress || v.ddiE164Number) return this.releaseItems(named)
    return this.releaseAll(userId, [])
  }

  /** Everything the user holds (delete), and the licences of its offers. */
  releaseAll (userId: string, services: readonly string[]): { ops: VoiceOp[], plan: VoicePlan } {
    const items = (['sip_devices', 'ddi_numbers'] as const).flatMap((t) => { const i = this.held[t].get(userId); return i ? [[t, i] as [VoiceTable, Item]] : [] })
    const out = this.releaseItems(items)
    const short = this.shortOf.get(userId)
    if (short != null) {
      this.holderOf.set(short, null)
      this.shortOf.set(userId, null)
      out.ops.push({ kind: 'unsubscribe', userId, shortNumber: short })
      out.plan.detached.push(`subscriber ${short}`)
    }
    out.plan.detached.push(...this.freeLicences(services))
    return out
  }

  /** A detach line's services: the licences the user gives back. */
  freeLicences (names: readonly string[]): string[] {
    const freed: string[] = []
    for (const name of new Set(names)) {
      const offer = this.offers.get(name)
      if (offer) { offer.used--; freed.push(`service ${name}`) }
    }
    return freed
  }

  /** The offers a line names must exist; each one the user gets anew takes a licence (403610 when none is left). */
  private licences (before: readonly string[], after: readonly string[], cells: ReadonlyArray<string | null>) {
    for (const name of cells) {
      if (name && !this.offers.has(name)) throw new LineFailure(PlanCodes.unknownService, `no service offer "${name}" in the company's Cloud PBX`)
    }
    // A user has a few services: arrays and includes, not Sets (this runs for every line).
    const added: string[] = []
    const removed: string[] = []
    for (const n of after) if (!before.includes(n) && !added.includes(n) && this.offers.has(n)) added.push(n)
    for (const n of before) if (!after.includes(n) && !removed.includes(n) && this.offers.has(n)) removed.push(n)
    for (const name of added) {
      const offer = this.offers.get(name)!
      if (offer.used >= offer.licences) offer.refused++
      if (offer.used >= offer.licences) throw new LineFailure(PlanCodes.maxSubscriptionReached, `service "${name}" has no licence left (${offer.licences} in use)`)
    }
    return { added, removed }
  }

  private releaseItems (items: ReadonlyArray<[VoiceTable, Item]>): { ops: VoiceOp[], plan: VoicePlan } {
    const ops: VoiceOp[] = []
    const plan: VoicePlan = { attached: [], detached: [] }
    for (const [table, item] of items) {
      this.setHolder(table, item, null)
      ops.push({ kind: 'release', table, itemId: item.id })
      plan.detached.push(`${label[table]} ${item.key}`)
    }
    return { ops, plan }
  }

  /** The device or DDI an upsert attaches, undefined when the user holds it already. */
  private toHold (table: VoiceTable, key: string | null, userId: string | undefined, subscriber: boolean, loginEmail: string): Item | undefined {
    if (key === null) return undefined
    const item = this.find(table, key)
    if (item.userId !== null && item.userId !== userId) throw this.heldByAnother(table, key)
    const mine = userId === undefined ? undefined : this.held[table].get(userId)
    if (mine && mine !== item) {
      throw table === 'sip_devices'
        ? new LineFailure(PlanCodes.anotherSipDeviceAttachedToUser, `${loginEmail} already has device ${mine.key}: detach it first`)
        : new LineFailure(PlanCodes.anotherDdiAttachedToUser, `${loginEmail} already has DDI ${mine.key}: detach it first`)
    }
    if (!subscriber) {
      throw table === 'sip_devices'
        ? new LineFailure(PlanCodes.sipDeviceForNonSubscriber, `${loginEmail} is not a Rainbow Voice subscriber: give a shortNumber to attach device ${key}`)
        : new LineFailure(PlanCodes.ddiForNonSubscriber, `${loginEmail} is not a Rainbow Voice subscriber: give a shortNumber to attach DDI ${key}`)
    }
    return item.userId === userId ? undefined : item
  }

  /**
   * A device of another company is 2008 (the contract's code); a DDI of another company is "no such
   * DDI" (2014), like one that does not exist: the contract has no code that would reveal it.
   */
  private find (table: VoiceTable, key: string): Item {
    const item = this.items[table].get(key)
    if (table === 'sip_devices') {
      if (!item) throw new LineFailure(PlanCodes.sipDeviceNotFound, `no SIP device with MAC address ${key}`)
      if (item.companyId !== this.companyId) throw new LineFailure(PlanCodes.sipDeviceInAnotherCompany, `SIP device ${key} belongs to another company`)
      return item
    }
    if (!item || item.companyId !== this.companyId) throw new LineFailure(PlanCodes.ddiNotFound, `no DDI ${key} in the company's Cloud PBX`)
    return item
  }

  private heldByAnother (table: VoiceTable, key: string): LineFailure {
    return table === 'sip_devices'
      ? new LineFailure(PlanCodes.sipDeviceAttachedToAnotherUser, `SIP device ${key} is attached to another user`)
      : new LineFailure(PlanCodes.ddiAttachedToAnotherUser, `DDI ${key} is attached to another user`)
  }

  private noCloudPbx (): LineFailure {
    return new LineFailure(PlanCodes.noCloudPbx, `company ${this.companyId} has no Cloud PBX`)
  }

  /** Bounds of the same length, compared as text: 0123 is in 0100-0199, not in 100-199. */
  private inPlan (short: string): boolean {
    return this.ranges.some((r) => short.length === r.from.length && short >= r.from && short <= r.to)
  }

  private setHolder (table: VoiceTable, item: Item, userId: string | null): void {
    if (item.userId) this.held[table].delete(item.userId)
    item.userId = userId
    if (userId) this.held[table].set(userId, item)
  }
}

/**
 * The import report's counts (contract §3.4) from the plans of the lines that did not fail: a
 * subscriber attached and one detached on the same line is a renumbering.
 */
export function countVoice (plans: Iterable<VoicePlan>): VoiceCounts {
  const c: VoiceCounts = { subscribersCreated: 0, subscribersDeleted: 0, subscribersRenumbered: 0, devicesAttached: 0, devicesDetached: 0, ddisAttached: 0, ddisDetached: 0 }
  const kinds = (list: readonly string[]) => list.map((s) => s.slice(0, s.indexOf(' ')))
  for (const p of plans) {
    const on = kinds(p.attached)
    const off = kinds(p.detached)
    const subOn = on.includes('subscriber')
    const subOff = off.includes('subscriber')
    if (subOn && subOff) c.subscribersRenumbered++
    else if (subOn) c.subscribersCreated++
    else if (subOff) c.subscribersDeleted++
    for (const k of on) { if (k === 'device') c.devicesAttached++; else if (k === 'DDI') c.ddisAttached++ }
    for (const k of off) { if (k === 'device') c.devicesDetached++; else if (k === 'DDI') c.ddisDetached++ }
  }
  return c
}
