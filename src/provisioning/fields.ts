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
    for (const key of Object.keys(row.values)) {
      if (NAMED_AS_IS.has(key)) keys.add(key as keyof UserFields)
      else if (key === 'businessPhones' || key === 'mobilePhones') keys.add('phoneNumbers')
    }
  }
  return [...keys]
}

/** What an empty cell means under `sync` for the fields that cannot be null (the creation defaults, §9). */
const CLEARED = { accountType: 'free', isInitialized: false } as const

type Existing = Pick<PlannedUser, 'phoneNumbers'> | undefined

/**
 * The fields a line asks for. `applyEmpty` (sync) turns an empty cell into a cleared field; otherwise
 * (create, update, upsert) an empty cell leaves the field alone (D10).
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
  for (const key of ['tags', 'services'] as const) {
    const list = v[key]
    if (list && (list.length > 0 || applyEmpty)) out[key] = list
  }
  if (v.emails && (v.emails.length > 0 || applyEmpty)) out.emails = v.emails.map(homeEmail)
  const phones = phoneNumbers(v, applyEmpty, existing)
  if (phones) out.phoneNumbers = phones
  return out
}

/** businessPhone{n} and mobilePhone{n} share one list; a column family absent from the file keeps its entries. */
function phoneNumbers (v: RowValues, applyEmpty: boolean, existing: Existing): PhoneEntry[] | undefined {
  const business = v.businessPhones && (v.businessPhones.length > 0 || applyEmpty) ? v.businessPhones : undefined
  const mobile = v.mobilePhones && (v.mobilePhones.length > 0 || applyEmpty) ? v.mobilePhones : undefined
  if (!business && !mobile) return undefined
  const old = existing?.phoneNumbers ?? []
  return [
    ...(business ? business.map(landline) : old.filter((p) => p.deviceType !== 'mobile')),
    ...(mobile ? mobile.map(mobilePhone) : old.filter((p) => p.deviceType === 'mobile')),
  ]
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
  for (const [key, to] of Object.entries(requested)) {
    const from = current ? (current as unknown as Record<string, unknown>)[key] ?? null : null
    if (!sameValue(from, to)) changes[key] = { from, to }
  }
  return changes
}

function sameValue (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  return canonical(a) === canonical(b)
}

/** jsonb does not keep key order: compare objects with sorted keys. */
function canonical (v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) => value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)))
    : value)
}
