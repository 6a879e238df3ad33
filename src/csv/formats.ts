import { getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max'
import type { CountryCode } from 'libphonenumber-js/max'
import { ALPHA3_TO_ALPHA2 } from './countries.js'
import { LineErrorCodes as C, type LineErrorCode } from './line-errors.js'

/**
 * One validator per format of the column registry. Each takes a trimmed, non-empty cell and
 * returns its normalised value or a Problem. Messages never quote the cell: a password must
 * never reach an error, and the other cells are in the report's `line` anyway.
 */
export class Problem {
  constructor (readonly code: LineErrorCode, readonly message: string) {}
}

export type Validator<T = unknown> = (value: string) => T | Problem

const problem = (code: LineErrorCode, message: string) => new Problem(code, message)

export const textOf = (max: number): Validator<string> => {
  const tooLong = problem(C.tooLong, `must have at most ${max} characters`)
  return (v) => v.length > max ? tooLong : v
}

// The WHATWG e-mail grammar (what browsers accept for type=email), plus a dot in the domain.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
const badEmail = problem(C.invalidEmail, 'must be an e-mail address (e.g. alice@example.com)')
export const email: Validator<string> = (v) => v.length <= 254 && EMAIL.test(v) ? v.toLowerCase() : badEmail

/** Contract §9: the one password policy (the admin CLI uses it too). */
export function passwordProblem (v: string): string | undefined {
  if (v.length < 8) return 'must have at least 8 characters'
  if (v.length > 256) return 'must have at most 256 characters'
  if (!/[A-Z]/.test(v)) return 'must contain a capital letter'
  if (!/[0-9]/.test(v)) return 'must contain a digit'
  if (!/[^A-Za-z0-9]/.test(v)) return 'must contain a special character'
  return undefined
}

export const password: Validator<string> = (v) => {
  const why = passwordProblem(v)
  return why === undefined ? v : problem(C.passwordPolicy, `${why} (policy: at least 8 characters with a capital letter, a digit and a special character)`)
}

// Validators return canonical strings where the domain is small, so 100,000 lines share a few
// strings instead of holding one copy each (rows are kept until the import has stored them).
const canonical = (values: Iterable<string>) => new Map([...values].map((v) => [v, v]))

/** A bounded memo: lookups of repeated cells (a company's switchboard number) are free. */
function memo<T> (max: number, fn: (key: string) => T): (key: string) => T {
  const seen = new Map<string, T>()
  return (key) => {
    let r = seen.get(key)
    if (r === undefined) {
      if (seen.size >= max) seen.clear()
      r = fn(key)
      seen.set(key, r)
    }
    return r
  }
}

const ALPHA3 = canonical(ALPHA3_TO_ALPHA2.keys())
const badCountry = problem(C.invalidCountry, 'must be an ISO 3166-1 alpha-3 country code (e.g. FRA)')
/** Case-insensitive, stored upper case. */
export const country: Validator<string> = (v) => ALPHA3.get(v.toUpperCase()) ?? badCountry

const LANGUAGE = /^([a-z]{2})(?:(?:(-)[A-Z]{2}))?$/ // contract §9, verbatim
const badLanguage = problem(C.invalidLanguage, 'must be an ISO 639-1 language, optionally with an ISO 3166-1 alpha-2 region (e.g. en or en-US)')
export const language: Validator<string> = memo(1000, (v) => LANGUAGE.test(v) ? v : badLanguage)

const ZONES = canonical([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'])
// Older links (Asia/Calcutta, US/Eastern) are not listed by supportedValuesOf but are IANA names;
// the runtime's own tz database decides, with the documented Area/Location spelling.
const ZONE_SHAPE = /^[A-Z][A-Za-z_]*(?:\/[A-Z0-9][A-Za-z0-9_+-]*)+$/
const badZone = problem(C.invalidTimezone, 'must be an IANA time zone (e.g. Europe/Paris)')
export const timezone: Validator<string> = (v) => {
  const known = ZONES.get(v)
  if (known !== undefined) return known
  if (!ZONE_SHAPE.test(v)) return badZone
  try {
    Intl.DateTimeFormat('en', { timeZone: v })
    ZONES.set(v, v)
    return v
  } catch {
    // Intl throws a RangeError for a name it does not know: that is the answer "not a time zone".
    return badZone
  }
}

export function oneOf<const T extends string> (values: readonly T[]): Validator<T> {
  const known = canonical(values) as Map<string, T>
  const bad = problem(C.invalidEnum, `must be one of ${values.join(', ')}`)
  return (v) => known.get(v) ?? bad
}

// Spreadsheets and directory exports write booleans every way; these six are unambiguous.
const TRUE = new Set(['true', '1', 'yes'])
const FALSE = new Set(['false', '0', 'no'])
const badBoolean = problem(C.invalidBoolean, 'must be true or false (1/0 and yes/no are accepted too)')
export const boolean: Validator<boolean> = (v) => {
  const low = v.toLowerCase()
  return TRUE.has(low) ? true : FALSE.has(low) ? false : badBoolean
}

const MAC = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$/
// Cisco's notation, three dot-separated groups of four: aabb.ccdd.eeff.
const MAC_DOTTED = /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/
const badMac = problem(C.invalidMacAddress, 'must be a MAC address (e.g. aa:bb:cc:dd:ee:02)')
// As stored: most files write MAC addresses this way already, and it is kept as it is.
const MAC_STORED = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/
/** Colon, dash, dot (aabb.ccdd.eeff) or no separator, any case; stored lower case with colons (D18). */
export const macAddress: Validator<string> = (v) => {
  if (MAC_STORED.test(v)) return v
  if (MAC_DOTTED.test(v)) return macFromHex(v.replaceAll('.', '').toLowerCase())
  if (!MAC.test(v)) return badMac
  return macFromHex(v.replace(/[:-]/g, '').toLowerCase())
}

/** Twelve lower-case hex digits as a MAC address is stored (D18): aa:bb:cc:dd:ee:02. */
export function macFromHex (hex: string): string {
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`
}

const SCIENTIFIC = /^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$/
const scientific = problem(C.scientificNotation,
  'is in scientific notation (like 4.91234E+10): a spreadsheet turned the number into a float and dropped digits; format the column as text and type the number again (e.g. +49123456789)')

const SHORT_NUMBER = /^\d{1,16}$/
const badShortNumber = problem(C.invalidFormat, 'must be digits only (e.g. 1000)')
export const shortNumber: Validator<string> = (v) => SHORT_NUMBER.test(v) ? v : SCIENTIFIC.test(v) ? scientific : badShortNumber

const PBX_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/
const badPbxId = problem(C.invalidFormat, 'must be a PBX identifier: letters, digits, ".", "_", ":" or "-", at most 64 characters')
export const pbxId: Validator<string> = (v) => PBX_ID.test(v) ? v : badPbxId

const badUrl = problem(C.invalidFormat, 'must be an http or https URL of at most 2048 characters')
export const url: Validator<string> = (v) => {
  if (v.length > 2048 || !URL.canParse(v)) return badUrl
  const { protocol } = new URL(v)
  return protocol === 'https:' || protocol === 'http:' ? v : badUrl
}

// Digits with the separators people type: spaces, dots, dashes, slashes, parentheses.
const PHONE_CHARS = /^\+?[\d\s().\-/]+$/
const badPhoneChars = problem(C.invalidPhone, 'must be a phone number: digits, with a leading + when international (E.164, e.g. +33123456789)')

/** First pass, per cell: shape only. The country of the line is needed to read it (resolvePhone). */
export const phoneShape: Validator<string> = (v) => SCIENTIFIC.test(v) ? scientific : v.length <= 40 && PHONE_CHARS.test(v) ? v : badPhoneChars

/** The line's country: an alpha-3 code, null when absent or empty, 'invalid' when its cell is wrong. */
export type LineCountry = string | null | 'invalid'

const noCountry = problem(C.invalidPhone, 'is not a valid international number; write it in E.164 (e.g. +33123456789) or fill the country column')

/**
 * Reads a phone number into E.164 (libphonenumber-js, full metadata).
 * - With a leading `+`: an international number.
 * - Without, when the line has a country: a number that starts with that country's calling code
 *   and has the length of an international number of it is that international number with its `+`
 *   lost (the 2018 template's `49123456789` with DEU is +49123456789, never +4949123456789; the
 *   seed's sample is not in a real German number range, so length, not validity, decides here).
 *   Otherwise as dialled in that country (trunk prefix `0`, the international prefix `00`), then,
 *   if that is not a valid number, as E.164 digits that lost their `+` (spreadsheets drop it).
 * - Without, and no country: only as E.164 digits that lost their `+`.
 * Accepted = valid for libphonenumber (right length and number range for its country).
 */
export function resolvePhone (v: string, lineCountry: LineCountry): string | Problem {
  if (v.startsWith('+')) return international(v)
  // The country cell has its own error already; a second one for the same cause is noise.
  if (lineCountry === 'invalid') return v
  return national(`${lineCountry ?? ''}|${v}`)
}

const badInternational = problem(C.invalidPhone, 'is not a valid international number (E.164, e.g. +33123456789)')
// Small memos: a number repeated on many lines (a switchboard) is read once, while a file of unique
// numbers (DDIs, mobiles) does not keep thousands of them alive on the checking thread: with 20,000,
// every number outlived the young generation, and that thread's collections took twice the time.
const international = memo(256, (v: string) => validE164(v) ?? badInternational)

const national = memo(256, (key: string): string | Problem => {
  const bar = key.indexOf('|')
  const v = key.slice(bar + 1)
  const lineCountry = bar === 0 ? null : key.slice(0, bar)
  if (lineCountry !== null) {
    const alpha2 = ALPHA3_TO_ALPHA2.get(lineCountry) as CountryCode
    const prefixed = withCallingCode(v, alpha2)
    if (prefixed !== undefined) return prefixed
    const inCountry = parsePhoneNumberFromString(v, alpha2)
    if (inCountry?.isValid() === true) return inCountry.number
    return validE164(`+${v}`) ?? problem(C.invalidPhone, `is not a valid number in ${lineCountry} nor a valid international number; write it in E.164 (e.g. +33123456789)`)
  }
  return validE164(`+${v}`) ?? noCountry
})

/** `v` read as international when it starts with the calling code of `alpha2` and has the length of one of its numbers. */
function withCallingCode (v: string, alpha2: CountryCode): string | undefined {
  const digits = v.replace(/[\s().\-/]/g, '')
  if (!digits.startsWith(getCountryCallingCode(alpha2))) return undefined
  const n = parsePhoneNumberFromString(`+${digits}`)
  return n !== undefined && n.countryCallingCode === getCountryCallingCode(alpha2) && n.isPossible() ? n.number : undefined
}

function validE164 (v: string): string | undefined {
  const n = parsePhoneNumberFromString(v)
  return n?.isValid() === true ? n.number : undefined
}
