import type { RowValues } from '../csv/types.js'
import type { PlannedUser } from '../db/users-repository.js'
import type { PhoneEntry, WritableUserFields } from '../db/users-write-repository.js'

/** The user fields a CSV line can set, with the names of the admin API (and of the plan's changes). */
export type UserFields = WritableUserFields

const SCALARS = [
  'title', 'firstName', 'lastName', 'nickName', 'jobTitle', 'department', 'userInfo1', 'userInfo2', 'country', 'language',
  'timezone', 'visibility', 'authenticationType', 'selectedAppCustomisationTemplateName', 'photoUrl', 'ldapId',
] as const

const NOT_SCALAR = ['accountType', 'isInitialized', 'tags', 'services', 'emails'] as const
const NAMED_AS_IS = new Set<string>([...SCALARS, ...NOT_SCALAR])

/**
 * The user fields lines with these values can change, hence all planning must know of their users
 * (their cells name the same columns on every line of a file).
 */
export function fieldsNamed (rows: ReadonlyArray<{ values: RowValues }>): Array<keyof UserFields> {
  const keys = new Set<keyof UserFields>()
  for (const row of rows) {
    for (const key in row.values) {
      if (NAMED_AS_IS.has(key)) keys.add(key as keyof UserFields)
      else if (key === 'businessPhones' || key === 'mobilePhones') keys.add('phoneNumbers')
    }
  }
  return [...keys]
}

/** What an empty cell means under `sync` for the fields that cannot be null (the creation defaults, §9). */
const CLEARED = { accountType: 'free', isInitialized: false } as const

type Existing = Partial<Pick<PlannedUser, 'phoneNumbers' | 'tags' | 'services' | 'emails'>> | undefined

/**
 * The fields a line asks for. One rule for every column: a filled cell sets its value; an empty cell
 * clears it under `sync` (`applyEmpty`) and is ignored otherwise (create, update, upsert: D10); a
 * column the file does not have leaves its value alone. Indexed columns work position by position
 * (`tags1` is the user's second tag), so a file with tags0 only never touches a second tag.
 */
export function requestedFields (v: RowValues, applyEmpty: boolean, existing: Existing): UserFields {
  const out: UserFields = {}
  for (const key of SCALARS) {
    if (!(key in v)) continue
    const value = v[key]
    if (value !== null && value !== undefined) out[key] = value
    else if (applyEmpty) out[key] = null
  }
  if ('accountType' in v) {
    if (v.accountType) out.accountType = v.accountType
    else if (applyEmpty) out.accountType = CLEARED.accountType
  }
  if ('isInitialized' in v) {
    if (v.isInitialized !== null && v.isInitialized !== undefined) out.isInitialized = v.isInitialized
    else if (applyEmpty) out.isInitialized = CLEARED.isInitialized
  }
  const tags = mergeCells(v.tags, existing?.tags ?? [], applyEmpty, same)
  if (tags) out.tags = tags
  const services = mergeCells(v.services, existing?.services ?? [], applyEmpty, same)
  if (services) out.services = services
  const emails = mergeCells(v.emails, existing?.emails ?? [], applyEmpty, (email, old) => old?.email === email ? old : homeEmail(email))
  if (emails) out.emails = emails
  const phones = phoneNumbers(v, applyEmpty, existing)
  if (phones) out.phoneNumbers = phones
  return out
}

/**
 * An indexed column family's cells (RowValues: position n is column n; '' an empty cell, null a
 * column the file does not have) over the stored list, position by position. Undefined when the
 * line changes nothing of it.
 */
function mergeCells<T> (cells: ReadonlyArray<string | null> | undefined, old: readonly T[], applyEmpty: boolean, make: (cell: string, old: T | undefined) => T): T[] | undefined {
  if (!cells) return undefined
  // One pass, one list: this runs for every indexed family of every line.
  const merged: T[] = []
  let touched = false
  for (let i = 0; i < cells.length || i < old.length; i++) {
    const cell = i < cells.length ? cells[i] : null
    if (cell !== null && cell !== undefined && cell !== '') {
      merged.push(make(cell, old[i]))
      touched = true
    } else if (i < old.length) {
      if (cell === '' && applyEmpty) touched = true
      else merged.push(old[i] as T)
    }
  }
  return touched ? merged : undefined
}

const same = (cell: string) => cell

/** businessPhone{n} is the user's n-th landline entry, mobilePhone{n} its n-th mobile one. */
function phoneNumbers (v: RowValues, applyEmpty: boolean, existing: Existing): PhoneEntry[] | undefined {
  if (!v.businessPhones && !v.mobilePhones) return undefined
  const old = existing?.phoneNumbers ?? []
  const oldLandlines = old.filter((p) => p.deviceType !== 'mobile')
  const oldMobiles = old.filter((p) => p.deviceType === 'mobile')
  const keep = (make: (n: string) => PhoneEntry) => (number: string, was: PhoneEntry | undefined) => was?.number === number ? was : make(number)
  const business = mergeCells(v.businessPhones, oldLandlines, applyEmpty, keep(landline))
  const mobile = mergeCells(v.mobilePhones, oldMobiles, applyEmpty, keep(mobilePhone))
  if (!business && !mobile) return undefined
  return [...(business ?? oldLandlines), ...(mobile ?? oldMobiles)]
}

// Module-level: these run for every line of a 100,000-line file.
const homeEmail = (email: string) => ({ email, type: 'home' as const })
const phone = (number: string, deviceType: 'landline' | 'mobile'): PhoneEntry => ({ number, numberE164: number, type: 'work', deviceType, isVisibleByOthers: true })
const landline = (number: string) => phone(number, 'landline')
const mobilePhone = (number: string) => phone(number, 'mobile')

export type FieldChanges = Record<string, { from: unknown, to: unknown }>

/** The fields whose value would change, as old → new. */
export function diffFields (requested: UserFields, current: PlannedUser | undefined): FieldChanges {
  const changes: FieldChanges = {}
  for (const key in requested) {
    const to = requested[key as keyof UserFields]
    const from = current ? (current as unknown as Record<string, unknown>)[key] ?? null : null
    if (!sameValue(from, to)) changes[key] = { from, to }
  }
  return changes
}

/** Equal as stored: null and absent alike, objects whatever their key order (jsonb). */
export function sameValue (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  // Lists of text (tags, services) are most of what a line compares: element by element.
  if (Array.isArray(a) && Array.isArray(b) && isFlatList(a) && isFlatList(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  return canonical(a) === canonical(b)
}

function isFlatList (list: readonly unknown[]): boolean {
  for (const x of list) if (x !== null && typeof x === 'object') return false
  return true
}

/** jsonb does not keep key order: compare objects with sorted keys. */
function canonical (v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) => value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)))
    : value)
}
