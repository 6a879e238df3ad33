import type { CsvRow } from '../csv/types.js'
import type { InventoryItem, NumberRange, VoiceInventory } from '../db/cloudpbx-repository.js'
import type { VoiceCounts } from '../db/imports-repository.js'
import { macFromHex } from '../csv/formats.js'
import { ID_PATTERN } from '../util/ids.js'
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

interface Offer { licences: number, used: number, before: number, refused: number }

/** One service offer's licences (contract §3.1/§3.4 `profiles`, keyed by offer name). */
export interface Profile { name: string, valid: boolean, assignedBefore?: number, assignedAfter: number, max: number }

const label = { sip_devices: 'device', ddi_numbers: 'DDI' } as const
const NONE = -1
/** Shared, never written: most lines add or remove no licence. */
const NO_NAMES: string[] = []

/** An Int32Array of at least `n` elements, the new ones NONE. */
function room (a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a
  const b = new Int32Array(Math.max(n, a.length * 2)).fill(NONE)
  b.set(a)
  return b
}

/**
 * The devices (or DDIs) planning knows, as columns indexed by item number: a whole company's
 * inventory is hundreds of thousands of them, held until the last line of a file. As objects with
 * their text ids and keys (sliced from the page read, which kept every page's text alive) they
 * took about 200 bytes each; here about 30. The key is the MAC address or E.164 number as a number
 * (48 bits, or at most 15 digits: exact in a double), the id (24 hex digits, newId) as 12 bytes.
 */
class ItemTable {
  // Open addressing over the keys (item number + 1, 0 for an empty place), at most half full: a Map
  // of 100,000 number keys took 5 MB of table and 1.6 MB of boxed numbers in the V8 heap, where
  // every byte held also delays the next collection.
  private places = new Int32Array(1 << 11)
  private ids = Buffer.alloc(12 * 1024)
  private keys = new Float64Array(1024)
  /** The holder's user slot (VoicePlanner), NONE when free. */
  holder = new Int32Array(1024).fill(NONE)
  private own = new Uint8Array(1024)
  /** An id that is not 24 hex digits (not one of newId's; kept as is). */
  private readonly oddIds = new Map<number, string>()
  size = 0

  constructor (private readonly table: VoiceTable) {}

  find (key: string): number | undefined {
    const k = this.keyOf(key)
    const i = this.places[this.place(k)]!
    return i === 0 ? undefined : i - 1
  }

  add (id: string, key: string, own: boolean): number {
    const k = this.keyOf(key)
    const at = this.place(k)
    if (this.places[at] !== 0) return this.places[at]! - 1
    const i = this.size++
    if (i === this.keys.length) this.grow()
    this.keys[i] = k
    this.own[i] = own ? 1 : 0
    this.holder[i] = NONE
    if (ID_PATTERN.test(id)) this.ids.write(id, i * 12, 'hex')
    else this.oddIds.set(i, id)
    this.places[at] = i + 1
    if (this.size * 2 > this.places.length) this.rehash()
    return i
  }

  id (i: number): string {
    return this.oddIds.get(i) ?? this.ids.toString('hex', i * 12, i * 12 + 12)
  }

  /** The key as the CSV and the database write it. */
  key (i: number): string {
    const k = this.keys[i]!
    return this.table === 'sip_devices' ? macFromHex(k.toString(16).padStart(12, '0')) : `+${k}`
  }

  owned (i: number): boolean {
    return this.own[i] === 1
  }

  /** Digit by digit: a MAC address (aa:bb:cc:dd:ee:02, as stored) in base 16, an E.164 number (+33…) in base 10. */
  private keyOf (text: string): number {
    let k = 0
    if (this.table === 'sip_devices') {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (c !== 58) k = k * 16 + (c <= 57 ? c - 48 : (c | 32) - 87)
      }
      return k
    }
    for (let i = 1; i < text.length; i++) k = k * 10 + text.charCodeAt(i) - 48
    return k
  }

  /** Where the key is, or the empty place where it would go. */
  private place (k: number): number {
    const mask = this.places.length - 1
    let at = Math.imul((k >>> 0) ^ Math.imul((k / 0x100000000) >>> 0, 0x85ebca6b), 0x9e3779b1) & mask
    for (let i = this.places[at]!; i !== 0 && this.keys[i - 1] !== k; i = this.places[at]!) at = (at + 1) & mask
    return at
  }

  private rehash (): void {
    this.places = new Int32Array(this.places.length * 2)
    for (let i = 0; i < this.size; i++) this.places[this.place(this.keys[i]!)] = i + 1
  }

  private grow (): void {
    const n = this.keys.length * 2
    const keys = new Float64Array(n); keys.set(this.keys); this.keys = keys
    const own = new Uint8Array(n); own.set(this.own); this.own = own
    const ids = Buffer.alloc(12 * n); this.ids.copy(ids); this.ids = ids
    this.holder = room(this.holder, n)
  }
}

/** Rainbow Voice state carried from line to line, beside the users and PBX numbers of the Planner (plan.ts). */
export class VoicePlanner {
  private hasCloudPbx = false
  private ranges: NumberRange[] = []
  private readonly offers = new Map<string, Offer>()
  // Every user planning knows something of, by a slot number; what each holds in columns by slot.
  private readonly slots = new Map<string, number>()
  // The user's short number; null: known to have none, undefined: not known (a later snapshot does
  // not overwrite what planning knows).
  private readonly shortOf: Array<string | null | undefined> = []
  // Each short number planning knows, with its subscriber's slot (NONE: known to be free).
  private readonly holderOf = new Map<string, number>()
  private readonly items: Record<VoiceTable, ItemTable> = { sip_devices: new ItemTable('sip_devices'), ddi_numbers: new ItemTable('ddi_numbers') }
  // The item each user slot holds, NONE when none.
  private readonly held: Record<VoiceTable, Int32Array<ArrayBuffer>> = { sip_devices: new Int32Array(1024).fill(NONE), ddi_numbers: new Int32Array(1024).fill(NONE) }

  constructor (private readonly companyId: string) {}

  add (inv: VoiceInventory): void {
    if (!inv.hasCloudPbx) return
    this.hasCloudPbx = true
    if (inv.head) this.ranges = inv.ranges
    for (const s of inv.services) if (!this.offers.has(s.name)) this.offers.set(s.name, { licences: s.licences, used: s.used, before: s.used, refused: 0 })
    for (const s of inv.subscribers) {
      const slot = this.slot(s.userId, true)
      if (this.shortOf[slot] !== undefined || this.holderOf.has(s.shortNumber)) continue
      this.shortOf[slot] = s.shortNumber
      this.holderOf.set(s.shortNumber, slot)
    }
    const addItems = (table: VoiceTable, rows: readonly InventoryItem[]) => {
      const t = this.items[table]
      for (const r of rows) {
        const before = t.size
        const i = t.add(r.id, r.key, r.companyId === this.companyId)
        if (i < before || r.userId === null) continue
        const slot = this.slot(r.userId, true)
        t.holder[i] = slot
        if (this.held[table][slot] === NONE) this.held[table][slot] = i
      }
    }
    addItems('sip_devices', inv.devices)
    addItems('ddi_numbers', inv.ddis)
  }

  /** Whether planning holds this device or DDI already (read before, or the whole inventory was). */
  knows (table: VoiceTable, key: string): boolean {
    return this.items[table].find(key) !== undefined
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
    const slot = userId === undefined ? NONE : this.slots.get(userId) ?? NONE
    const current = slot === NONE ? undefined : this.shortOf[slot] ?? undefined
    let subscribe: { shortNumber: string, previous: string | null } | undefined
    if (short !== null && short !== current) {
      if (!this.inPlan(short)) throw new LineFailure(PlanCodes.shortNumberNotInNumberingPlan, `short number ${short} is not in the numbering plan of the company's Cloud PBX`)
      const holder = this.holderOf.get(short)
      if (holder !== undefined && holder !== NONE && holder !== slot) throw new LineFailure(PlanCodes.shortNumberAlreadyAssigned, `short number ${short} is already assigned to another subscriber of the company`)
      if (current === undefined && holdsPbxNumber) throw new LineFailure(PlanCodes.userAlreadyInAnotherPbx, `${row.loginEmail} already holds an extension of another PBX: detach it first`)
      subscribe = { shortNumber: short, previous: current ?? null }
    }
    const subscriber = current !== undefined || subscribe !== undefined
    const device = this.toHold('sip_devices', v.macAddress ?? null, slot, subscriber, row.loginEmail)
    const ddi = this.toHold('ddi_numbers', v.ddiE164Number ?? null, slot, subscriber, row.loginEmail)
    const licences = services ? this.licences(services.before, services.after, v.services ?? NO_NAMES) : { added: NO_NAMES, removed: NO_NAMES }
    return (uid) => {
      const ops: VoiceOp[] = []
      const plan: VoicePlan = { attached: [], detached: [] }
      const to = slot !== NONE ? slot : this.slot(uid)
      if (subscribe) {
        if (subscribe.previous !== null) this.holderOf.set(subscribe.previous, NONE)
        this.shortOf[to] = subscribe.shortNumber
        this.holderOf.set(subscribe.shortNumber, to)
        ops.push({ kind: 'subscribe', userId: uid, shortNumber: subscribe.shortNumber, previous: subscribe.previous })
        plan.attached.push(`subscriber ${subscribe.shortNumber}`)
        if (subscribe.previous !== null) plan.detached.push(`subscriber ${subscribe.previous}`)
      }
      if (device !== NONE) this.hold('sip_devices', device, v.macAddress!, to, uid, ops, plan)
      if (ddi !== NONE) this.hold('ddi_numbers', ddi, v.ddiE164Number!, to, uid, ops, plan)
      for (const name of licences.added) { this.offers.get(name)!.used++; plan.attached.push(`service ${name}`) }
      for (const name of licences.removed) { this.offers.get(name)!.used--; plan.detached.push(`service ${name}`) }
      return { ops, plan }
    }
  }

  /** `key`: the line's cell, which names the item as its key would be written back (both normalised). */
  private hold (table: VoiceTable, item: number, key: string, slot: number, userId: string, ops: VoiceOp[], plan: VoicePlan): void {
    this.setHolder(table, item, slot)
    ops.push({ kind: 'hold', table, itemId: this.items[table].id(item), userId })
    plan.attached.push(`${label[table]} ${key}`)
  }

  /**
   * detach names the user's subscriber by its short number (2018 without it). With a MAC address or a
   * DDI, only those are released; with neither, the subscriber and everything it holds.
   */
  detach (row: CsvRow, userId: string): { ops: VoiceOp[], plan: VoicePlan } {
    if (!this.hasCloudPbx) throw this.noCloudPbx()
    const v = row.values
    const slot = this.slots.get(userId) ?? NONE
    const current = slot === NONE ? undefined : this.shortOf[slot] ?? undefined
    if (current === undefined && v.ddiE164Number) throw new LineFailure(PlanCodes.ddiDetachForNonSubscriber, `${row.loginEmail} is not a Rainbow Voice subscriber: it holds no DDI to detach`)
    if (current === undefined || current !== v.shortNumber) throw new LineFailure(PlanCodes.subscriberNotTheUsers, `subscriber ${v.shortNumber ?? ''} is not ${row.loginEmail}'s`)
    const named: Array<[VoiceTable, number]> = []
    for (const [table, key] of [['sip_devices', v.macAddress], ['ddi_numbers', v.ddiE164Number]] as const) {
      if (!key) continue
      const item = this.find(table, key)
      const holder = this.items[table].holder[item]!
      if (holder !== NONE && holder !== slot) throw this.heldByAnother(table, key)
      if (holder === slot) named.push([table, item])
    }
    if (v.macAddress || v.ddiE164Number) return this.releaseItems(named)
    return this.releaseAll(userId, [])
  }

  /** Everything the user holds (delete), and the licences of its offers. */
  releaseAll (userId: string, services: readonly string[]): { ops: VoiceOp[], plan: VoicePlan } {
    const slot = this.slots.get(userId)
    const items: Array<[VoiceTable, number]> = []
    if (slot !== undefined) {
      for (const t of ['sip_devices', 'ddi_numbers'] as const) if (this.held[t][slot] !== NONE) items.push([t, this.held[t][slot]!])
    }
    const out = this.releaseItems(items)
    const short = slot === undefined ? undefined : this.shortOf[slot]
    if (slot !== undefined && short != null) {
      this.holderOf.set(short, NONE)
      this.shortOf[slot] = null
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
    // A user has a few services: arrays and includes, not Sets, and no list when there is nothing
    // to list (this runs for every line).
    let added: string[] = NO_NAMES
    let removed: string[] = NO_NAMES
    for (const n of after) {
      if (before.includes(n) || added.includes(n) || !this.offers.has(n)) continue
      if (added === NO_NAMES) added = []
      added.push(n)
    }
    for (const n of before) {
      if (after.includes(n) || removed.includes(n) || !this.offers.has(n)) continue
      if (removed === NO_NAMES) removed = []
      removed.push(n)
    }
    for (const name of added) {
      const offer = this.offers.get(name)!
      if (offer.used >= offer.licences) offer.refused++
      if (offer.used >= offer.licences) throw new LineFailure(PlanCodes.maxSubscriptionReached, `service "${name}" has no licence left (${offer.licences} in use)`)
    }
    return { added, removed }
  }

  private releaseItems (items: ReadonlyArray<[VoiceTable, number]>): { ops: VoiceOp[], plan: VoicePlan } {
    const ops: VoiceOp[] = []
    const plan: VoicePlan = { attached: [], detached: [] }
    for (const [table, item] of items) {
      this.setHolder(table, item, NONE)
      const t = this.items[table]
      ops.push({ kind: 'release', table, itemId: t.id(item) })
      plan.detached.push(`${label[table]} ${t.key(item)}`)
    }
    return { ops, plan }
  }

  /** The device or DDI an upsert attaches, NONE when there is none or the user holds it already. */
  private toHold (table: VoiceTable, key: string | null, slot: number, subscriber: boolean, loginEmail: string): number {
    if (key === null) return NONE
    const item = this.find(table, key)
    const t = this.items[table]
    const holder = t.holder[item]!
    if (holder !== NONE && holder !== slot) throw this.heldByAnother(table, key)
    const mine = slot === NONE ? NONE : this.held[table][slot]!
    if (mine !== NONE && mine !== item) {
      throw table === 'sip_devices'
        ? new LineFailure(PlanCodes.anotherSipDeviceAttachedToUser, `${loginEmail} already has device ${t.key(mine)}: detach it first`)
        : new LineFailure(PlanCodes.anotherDdiAttachedToUser, `${loginEmail} already has DDI ${t.key(mine)}: detach it first`)
    }
    if (!subscriber) {
      throw table === 'sip_devices'
        ? new LineFailure(PlanCodes.sipDeviceForNonSubscriber, `${loginEmail} is not a Rainbow Voice subscriber: give a shortNumber to attach device ${key}`)
        : new LineFailure(PlanCodes.ddiForNonSubscriber, `${loginEmail} is not a Rainbow Voice subscriber: give a shortNumber to attach DDI ${key}`)
    }
    return holder === slot && slot !== NONE ? NONE : item
  }

  /**
   * A device of another company is 2008 (the contract's code); a DDI of another company is "no such
   * DDI" (2014), like one that does not exist: the contract has no code that would reveal it.
   */
  private find (table: VoiceTable, key: string): number {
    const t = this.items[table]
    const item = t.find(key)
    if (table === 'sip_devices') {
      if (item === undefined) throw new LineFailure(PlanCodes.sipDeviceNotFound, `no SIP device with MAC address ${key}`)
      if (!t.owned(item)) throw new LineFailure(PlanCodes.sipDeviceInAnotherCompany, `SIP device ${key} belongs to another company`)
      return item
    }
    if (item === undefined || !t.owned(item)) throw new LineFailure(PlanCodes.ddiNotFound, `no DDI ${key} in the company's Cloud PBX`)
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

  /**
   * The user's slot, made on first sight. `read`: the id comes from the inventory read, whose ids
   * are slices of a page's text: a slice held would keep the whole page alive, a copy does not.
   */
  private slot (userId: string, read = false): number {
    let slot = this.slots.get(userId)
    if (slot !== undefined) return slot
    slot = this.shortOf.length
    const id = read ? flat(userId) : userId
    this.shortOf.push(undefined)
    this.slots.set(id, slot)
    for (const t of ['sip_devices', 'ddi_numbers'] as const) this.held[t] = room(this.held[t], slot + 1)
    return slot
  }

  private setHolder (table: VoiceTable, item: number, slot: number): void {
    const t = this.items[table]
    const was = t.holder[item]!
    if (was !== NONE) this.held[table][was] = NONE
    t.holder[item] = slot
    if (slot !== NONE) this.held[table][slot] = item
  }
}

/** The same text in a string of its own (not a slice of a larger one), so that holding it holds nothing else. */
function flat (s: string): string {
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string
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
