import { ACTIONS, type Mode, type RowValues } from './types.js'

/**
 * THE column registry (contract §4, §5, §9): every CSV column this server knows, the modes that
 * accept it, its format, its template text and the field it fills. Validation (row-schema.ts),
 * templates (template.ts) and the OpenAPI descriptions are all derived from this table.
 */

/** hidden: accepted but left out of templates (the LDAP connector's ldap_id). */
export type Optionality = 'mandatory' | 'optional' | 'hidden'

export type Format =
  | 'action' | 'email' | 'password' | 'text' | 'tag' | 'phone' | 'country' | 'language' | 'timezone'
  | 'visibility' | 'accountType' | 'authenticationType' | 'boolean' | 'mac' | 'shortNumber' | 'pbxId' | 'url'

export interface ColumnSpec {
  /** Header name, case-sensitive; indexed columns are written `businessPhone{n}`. */
  readonly name: string
  /** Indexed column: n runs from 0 to max. */
  readonly indexed?: { readonly max: number }
  /** Presence = accepted in that mode. A mandatory column must be in the header. */
  readonly modes: Readonly<Partial<Record<Mode, Optionality>>>
  readonly format: Format
  /** Template "Format" text (the 2018 template's wording where it had one). */
  readonly formatText: string
  /** Template "Description" text. */
  readonly description: string
  /** Where the value goes: a RowValues key (a list for indexed columns) or the row's action / loginEmail. */
  readonly target: keyof RowValues | 'action' | 'loginEmail'
  /** The cell must be filled on every line, not only the column present. */
  readonly valueRequired?: boolean
}

export const VISIBILITIES = ['same_than_company', 'public', 'private', 'closed', 'isolated', 'hotspot', 'none'] as const
export const ACCOUNT_TYPES = ['free', 'basic', 'advanced'] as const
export const AUTHENTICATION_TYPES = ['DEFAULT', 'RAINBOW', 'SAML', 'OIDC'] as const

const ALL = { user: 'mandatory', device: 'mandatory', useranddevice: 'mandatory', rainbowvoice: 'mandatory' } as const
const USER = { user: 'optional', useranddevice: 'optional', rainbowvoice: 'optional' } as const
const DEVICE = { device: 'optional', useranddevice: 'optional' } as const
const VOICE = { rainbowvoice: 'optional' } as const
const INDEX = { max: 99 } as const

const text = (name: string & keyof RowValues, description = ''): ColumnSpec =>
  ({ name, modes: USER, format: 'text', formatText: 'text', description, target: name })

export const COLUMNS: readonly ColumnSpec[] = [
  { name: '__action__', modes: ALL, format: 'action', formatText: '', description: 'Action to perform', target: 'action', valueRequired: true },
  { name: 'loginEmail', modes: ALL, format: 'email', formatText: 'email address', description: 'Main or professional email used as login', target: 'loginEmail', valueRequired: true },
  {
    name: 'password',
    modes: { user: 'optional', useranddevice: 'optional', rainbowvoice: 'mandatory' },
    format: 'password',
    formatText: 'text (>= 8 chars with 1 capital+1 number+1 special char)',
    description: '(e.g. This1Pwd!); empty: the user sets it with a password reset, unless SSO',
    target: 'password',
  },
  text('title', '(e.g. Mr, Mrs, Dr, ...)'),
  text('firstName'),
  text('lastName'),
  text('nickName'),
  { name: 'businessPhone{n}', indexed: INDEX, modes: USER, format: 'phone', formatText: 'E.164 number', description: 'DDI phone number (e.g. +33123456789); businessPhone1, businessPhone2... for more', target: 'businessPhones' },
  { name: 'mobilePhone{n}', indexed: INDEX, modes: USER, format: 'phone', formatText: 'E.164 number', description: 'Mobile phone number (e.g. +33601234567); mobilePhone1... for more', target: 'mobilePhones' },
  { name: 'email{n}', indexed: INDEX, modes: USER, format: 'email', formatText: 'email address', description: 'Personal email; email1... for more', target: 'emails' },
  { name: 'tags{n}', indexed: { max: 4 }, modes: USER, format: 'tag', formatText: 'text (<= 64 chars)', description: 'Tag; tags0 to tags4 (at most 5 tags)', target: 'tags' },
  text('jobTitle'),
  text('department'),
  text('userInfo1', 'Free field (output in CDRs)'),
  text('userInfo2', 'Free field (output in CDRs)'),
  { name: 'country', modes: USER, format: 'country', formatText: 'ISO 3166-1 alpha-3', description: '(e.g. FRA); phone numbers without + are read in this country', target: 'country' },
  { name: 'language', modes: USER, format: 'language', formatText: 'ISO 639-1 (en) / with ISO 31661 alpha-2 (en-US)', description: '', target: 'language' },
  { name: 'timezone', modes: USER, format: 'timezone', formatText: 'IANA tz database (Europe/Paris)', description: '', target: 'timezone' },
  { name: 'visibility', modes: USER, format: 'visibility', formatText: `<${VISIBILITIES.join('|')}>`, description: 'none is reserved for guests', target: 'visibility' },
  { name: 'accountType', modes: USER, format: 'accountType', formatText: `<${ACCOUNT_TYPES.join('|')}>`, description: 'Default free', target: 'accountType' },
  { name: 'isInitialized', modes: USER, format: 'boolean', formatText: '<true|false> (also 1|0, yes|no)', description: 'Default false', target: 'isInitialized' },
  { name: 'authenticationType', modes: USER, format: 'authenticationType', formatText: `<${AUTHENTICATION_TYPES.join('|')}>`, description: "Empty: the company's default", target: 'authenticationType' },
  text('selectedAppCustomisationTemplateName', 'Customisation template name (e.g. Full, Phone calls only, Audio only, Chat and Audio, Same as company)'),
  { name: 'service{n}', indexed: INDEX, modes: USER, format: 'text', formatText: 'text', description: 'Service (offer) name (e.g. Enterprise Demo); service1... for more', target: 'services' },
  { name: 'photoUrl', modes: USER, format: 'url', formatText: 'http(s) URL', description: "The user's photo", target: 'photoUrl' },
  { name: 'ldap_id', modes: { useranddevice: 'hidden' }, format: 'text', formatText: 'text', description: 'Directory identifier (AD objectGUID), filled by the LDAP connector', target: 'ldapId' },
  { name: 'pbxId', modes: DEVICE, format: 'pbxId', formatText: 'text', description: "PBX identifier (e.g. DEMO-PBX-0001); empty: the company's PBX that has pbxShortNumber", target: 'pbxId' },
  { name: 'pbxShortNumber', modes: DEVICE, format: 'shortNumber', formatText: 'digits', description: 'PBX extension number (e.g. 1000); may be empty for detach', target: 'pbxShortNumber' },
  { name: 'pbxInternalNumber', modes: DEVICE, format: 'phone', formatText: 'E.164 number', description: 'Private number when different from extension number', target: 'pbxInternalNumber' },
  { name: 'number', modes: DEVICE, format: 'phone', formatText: 'E.164 number', description: 'Public DDI number of the extension (e.g. +33123456780)', target: 'number' },
  { name: 'shortNumber', modes: VOICE, format: 'shortNumber', formatText: 'digits', description: 'Rainbow Voice subscriber short number (e.g. 81011); only for rainbowvoice mode', target: 'shortNumber' },
  { name: 'macAddress', modes: VOICE, format: 'mac', formatText: 'MAC address', description: 'SIP device (e.g. aa:bb:cc:dd:ee:02); only for rainbowvoice mode', target: 'macAddress' },
  { name: 'ddiE164Number', modes: VOICE, format: 'phone', formatText: 'E.164 number', description: 'DDI number (e.g. +33298300513); only for rainbowvoice mode', target: 'ddiE164Number' },
]

/** D4: on /users/imports, a header with any of these is a device file. */
export const DEVICE_COLUMN_NAMES: readonly string[] = ['pbxId', 'pbxShortNumber', 'pbxInternalNumber', 'number']

const EXACT = new Map(COLUMNS.filter((c) => c.indexed === undefined).map((c) => [c.name, c]))
const INDEXED = COLUMNS.filter((c) => c.indexed !== undefined).map((c) => ({
  spec: c,
  // No leading zeros: businessPhone01 would silently collide with businessPhone1.
  pattern: new RegExp(`^${c.name.replace('{n}', '')}(0|[1-9][0-9]*)$`),
}))

export interface ColumnMatch {
  spec: ColumnSpec
  /** n of an indexed column. */
  index?: number
}

/** The registry entry of a header name, whatever the mode; undefined when unknown. */
export function findColumn (name: string): ColumnMatch | undefined {
  const exact = EXACT.get(name)
  if (exact !== undefined) return { spec: exact }
  for (const { spec, pattern } of INDEXED) {
    const m = pattern.exec(name)
    if (m === null) continue
    const index = Number(m[1])
    return spec.indexed !== undefined && index <= spec.indexed.max ? { spec, index } : undefined
  }
  return undefined
}

/** Registry names written as they appear in a template header (`businessPhone0`). */
export const headerNameOf = (spec: ColumnSpec, index = 0): string => spec.name.replace('{n}', String(index))

export function formatTextOf (spec: ColumnSpec, mode: Mode): string {
  return spec.format === 'action' ? `<${ACTIONS[mode].join('|')}>` : spec.formatText
}

export function mandatoryColumns (mode: Mode): string[] {
  return COLUMNS.filter((c) => c.modes[mode] === 'mandatory').map((c) => c.name)
}

// The Rainbow Voice template follows the SDK's sample (contract §5) rather than every column.
const VOICE_TEMPLATE = ['__action__', 'loginEmail', 'shortNumber', 'macAddress', 'ddiE164Number', 'password', 'title', 'firstName', 'lastName', 'language', 'service0', 'service1']

/** The header of a mode's template: registry order, index 0 for indexed columns, hidden ones left out. */
export function templateColumns (mode: Mode): string[] {
  if (mode === 'rainbowvoice') return VOICE_TEMPLATE
  return COLUMNS.filter((c) => c.modes[mode] === 'mandatory' || c.modes[mode] === 'optional').map((c) => headerNameOf(c))
}

export interface ColumnDoc {
  name: string
  optionality: 'Mandatory' | 'Optional'
  format: string
  description: string
}

/** One entry per column of a mode's template: the `%` block of templates and the OpenAPI descriptions. */
export function columnDocs (mode: Mode): ColumnDoc[] {
  return templateColumns(mode).map((name) => {
    const spec = findColumn(name)?.spec
    if (spec === undefined) throw new Error(`Template column ${name} is not in the registry`)
    return { name, optionality: spec.modes[mode] === 'mandatory' ? 'Mandatory' : 'Optional', format: formatTextOf(spec, mode), description: spec.description }
  })
}
