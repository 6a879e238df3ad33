/**
 * A realistic, deterministic user CSV for the benchmarks (issue 3 point 8): about 250 bytes a line,
 * mostly `create` lines with valid passwords, E.164 phones valid for libphonenumber, ISO alpha-3
 * countries with matching languages and IANA time zones. A seeded PRNG makes every run write the
 * same bytes, so runs compare.
 *
 *   tsx bench/csv-generate.ts --lines 100000 --out file.csv [--seed 42] [--update 0.02] [--delete 0.01] [--invalid 0.005]
 *
 * `update` and `delete` lines name `existing.NNNNN@…` users (see existingUsers): a benchmark seeds
 * them so those lines plan as real updates and deletes; without them they plan as 1001 errors.
 * `invalid` lines carry one validation error each (bad phone, country, password, e-mail...).
 */
import { writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'

export const HEADER = [
  '__action__', 'loginEmail', 'password', 'title', 'firstName', 'lastName', 'nickName',
  'businessPhone0', 'businessPhone1', 'mobilePhone0', 'email0', 'jobTitle', 'department', 'userInfo1',
  'country', 'language', 'timezone', 'accountType', 'isInitialized', 'tags0', 'tags1',
] as const

export interface GenerateOptions {
  lines: number
  seed?: number
  /** Share of `update` lines (default 0.02). */
  update?: number
  /** Share of `delete` lines (default 0.01). */
  delete?: number
  /** Share of lines with one validation error (default 0.005). */
  invalid?: number
}

export interface ExistingUser { loginEmail: string, firstName: string, lastName: string, country: string }

export interface GeneratedCsv {
  text: string
  /** Users that update/delete lines name: seed them to plan real updates and deletes. */
  existing: ExistingUser[]
  counts: { create: number, update: number, delete: number, invalid: number }
}

/** mulberry32: small, fast, good enough for test data. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rand = () => number
const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T
const digits = (rand: Rand, n: number): string => {
  let s = ''
  for (let i = 0; i < n; i++) s += String(Math.floor(rand() * 10))
  return s
}

interface Country {
  alpha3: string
  languages: readonly string[]
  zones: readonly string[]
  /** Candidate E.164 numbers; validated, retried until libphonenumber says valid. */
  landline: (r: Rand) => string
  mobile: (r: Rand) => string
  weight: number
  firstNames: readonly string[]
  lastNames: readonly string[]
}

const FR_FIRST = ['Jean', 'Marie', 'Pierre', 'Sophie', 'Luc', 'Camille', 'Hélène', 'François', 'Élodie', 'Nicolas', 'Inès', 'Théo', 'Chloé', 'Mathieu', 'Léa', 'Julien']
const FR_LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefèvre', 'Michel', 'Garçon', 'Faure']
const DE_FIRST = ['Lukas', 'Anna', 'Jürgen', 'Sabine', 'Max', 'Lea', 'Jonas', 'Sören', 'Katrin', 'Felix', 'Jörg', 'Mia']
const DE_LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch']
const EN_FIRST = ['James', 'Olivia', 'William', 'Emma', 'Oliver', 'Amelia', 'Harry', 'Isla', 'Jack', 'Ava', 'Noah', 'Grace', 'Liam', 'Emily', 'Ethan', 'Sophia']
const EN_LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Miller', 'Davis', 'Garcia', "O'Brien", 'Walker', 'Wright', 'Clark', 'Lewis']
const ES_FIRST = ['José', 'Lucía', 'Antonio', 'María', 'Manuel', 'Carmen', 'Javier', 'Ana', 'Sergio', 'Paula']
const ES_LAST = ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Muñoz']
const IT_FIRST = ['Marco', 'Giulia', 'Alessandro', 'Francesca', 'Luca', 'Chiara', 'Matteo', 'Sara', 'Lorenzo', 'Martina']
const IT_LAST = ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco']
const NL_FIRST = ['Daan', 'Emma', 'Sem', 'Julia', 'Lucas', 'Tess', 'Bram', 'Sanne', 'Thijs', 'Fleur']
const NL_LAST = ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer']

const COUNTRIES: readonly Country[] = [
  {
    alpha3: 'FRA',
    languages: ['fr', 'fr-FR', 'en'],
    zones: ['Europe/Paris'],
    weight: 30,
    firstNames: FR_FIRST,
    lastNames: FR_LAST,
    landline: (r) => `+33${pick(r, ['1', '2', '3', '4', '5'])}${digits(r, 8)}`,
    mobile: (r) => `+33${pick(r, ['6', '7'])}${digits(r, 8)}`,
  },
  {
    alpha3: 'DEU',
    languages: ['de', 'de-DE', 'en'],
    zones: ['Europe/Berlin'],
    weight: 15,
    firstNames: DE_FIRST,
    lastNames: DE_LAST,
    landline: (r) => pick(r, [`+4930${digits(r, 8)}`, `+4989${digits(r, 7)}`, `+4969${digits(r, 7)}`]),
    mobile: (r) => `+49${pick(r, ['151', '160', '170', '171', '176'])}${digits(r, 8)}`,
  },
  {
    alpha3: 'GBR',
    languages: ['en', 'en-GB'],
    zones: ['Europe/London'],
    weight: 12,
    firstNames: EN_FIRST,
    lastNames: EN_LAST,
    landline: (r) => `+4420${pick(r, ['7', '3', '8'])}${digits(r, 7)}`,
    mobile: (r) => `+447${pick(r, ['4', '5', '7', '8', '9'])}${digits(r, 8)}`,
  },
  {
    alpha3: 'USA',
    languages: ['en', 'en-US', 'es-US'],
    zones: ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'],
    weight: 15,
    firstNames: EN_FIRST,
    lastNames: EN_LAST,
    landline: (r) => `+1${pick(r, ['212', '415', '617', '312', '206', '512'])}${pick(r, ['2', '3', '4', '5', '6', '7', '8', '9'])}${digits(r, 6)}`,
    mobile: (r) => `+1${pick(r, ['646', '917', '628', '857', '872'])}${pick(r, ['2', '3', '4', '5', '6', '7', '8', '9'])}${digits(r, 6)}`,
  },
  {
    alpha3: 'ESP',
    languages: ['es', 'es-ES', 'ca-ES'],
    zones: ['Europe/Madrid'],
    weight: 8,
    firstNames: ES_FIRST,
    lastNames: ES_LAST,
    landline: (r) => `+34${pick(r, ['91', '93', '96'])}${digits(r, 7)}`,
    mobile: (r) => `+346${digits(r, 8)}`,
  },
  {
    alpha3: 'ITA',
    languages: ['it', 'it-IT'],
    zones: ['Europe/Rome'],
    weight: 8,
    firstNames: IT_FIRST,
    lastNames: IT_LAST,
    landline: (r) => `+39${pick(r, ['02', '06'])}${digits(r, 8)}`,
    mobile: (r) => `+393${pick(r, ['3', '4', '8', '9'])}${digits(r, 8)}`,
  },
  {
    alpha3: 'NLD',
    languages: ['nl', 'nl-NL', 'en'],
    zones: ['Europe/Amsterdam'],
    weight: 6,
    firstNames: NL_FIRST,
    lastNames: NL_LAST,
    landline: (r) => `+31${pick(r, ['20', '10', '30'])}${digits(r, 7)}`,
    mobile: (r) => `+316${digits(r, 8)}`,
  },
  {
    alpha3: 'BEL',
    languages: ['fr-BE', 'nl-BE', 'de-BE'],
    zones: ['Europe/Brussels'],
    weight: 3,
    firstNames: FR_FIRST,
    lastNames: NL_LAST,
    landline: (r) => `+322${digits(r, 7)}`,
    mobile: (r) => `+3247${digits(r, 7)}`,
  },
  {
    alpha3: 'CHE',
    languages: ['de-CH', 'fr-CH', 'it-CH'],
    zones: ['Europe/Zurich'],
    weight: 3,
    firstNames: DE_FIRST,
    lastNames: FR_LAST,
    landline: (r) => `+41${pick(r, ['44', '22', '31'])}${digits(r, 7)}`,
    mobile: (r) => `+417${pick(r, ['6', '7', '8', '9'])}${digits(r, 7)}`,
  },
]
const TOTAL_WEIGHT = COUNTRIES.reduce((s, c) => s + c.weight, 0)

const JOB_TITLES = [
  'Software Engineer', 'Senior Software Engineer', 'Sales Manager', 'Account Executive', 'Customer Success Manager',
  'Product Owner', 'HR Business Partner', 'Financial Controller', 'Technical Support Specialist', 'Marketing Manager',
  'Project Manager', 'Network Administrator', 'Executive Assistant', 'Head of Procurement', 'Data Analyst',
]
const DEPARTMENTS = ['Research and Development', 'Sales', 'Customer Care', 'Human Resources', 'Finance', 'Marketing', 'Operations', 'IT Infrastructure', 'Legal', 'Procurement']
const SITES = ['site-paris', 'site-berlin', 'site-london', 'site-newyork', 'site-madrid', 'site-milano', 'site-amsterdam', 'remote']
const TEAMS = ['team-alpha', 'team-bravo', 'team-charlie', 'team-delta', 'team-echo', 'team-foxtrot', 'vip', 'on-call']
const TITLES = ['Mr', 'Mrs', 'Ms', 'Dr']
const ACCOUNT_TYPES = ['free', 'basic', 'advanced', 'advanced', 'basic']
const PERSONAL_DOMAINS = ['gmail.example.com', 'outlook.example.com', 'yahoo.example.net', 'proton.example.org', 'free.example.fr']
const DOMAIN = 'acme-corporation.example.com'
const SPECIALS = '!#$%&*+-=?@^_'
const LETTERS = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ'

/** ASCII, lower case, for e-mail local parts. */
function slug (s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '')
}

function validPhone (rand: Rand, make: (r: Rand) => string): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = make(rand)
    if (parsePhoneNumberFromString(candidate)?.isValid() === true) return candidate
  }
  throw new Error('no valid phone number generated in 50 attempts: check the country patterns')
}

function password (rand: Rand): string {
  // This1Pwd!-style: capital, digit, special, 10–14 characters.
  let s = pick(rand, ['This', 'Rain', 'Blue', 'Star', 'Moon', 'Wolf', 'Zeta']) + String(Math.floor(rand() * 90) + 10) + pick(rand, [...SPECIALS])
  const extra = 4 + Math.floor(rand() * 5)
  for (let i = 0; i < extra; i++) s += LETTERS[Math.floor(rand() * LETTERS.length)]
  return s
}

function chooseCountry (rand: Rand): Country {
  let x = rand() * TOTAL_WEIGHT
  for (const c of COUNTRIES) {
    x -= c.weight
    if (x < 0) return c
  }
  return COUNTRIES[0] as Country
}

/** One cell of a line broken on purpose: the kinds of mistakes real files carry. */
const BREAKERS: ReadonlyArray<(cells: string[]) => void> = [
  (c) => { c[7] = '4.91234E+10' }, // spreadsheet-mangled phone
  (c) => { c[14] = 'FRANCE' }, // country not alpha-3
  (c) => { c[2] = 'password' }, // password policy
  (c) => { c[10] = 'not-an-email' }, // personal e-mail
  (c) => { c[15] = 'french' }, // language
  (c) => { c[16] = 'Europe/Pariss' }, // time zone
  (c) => { c[9] = '+3312' }, // too short
]

/** `existing.NNNNN@…`: the users update and delete lines name. */
export const existingLogin = (k: number) => `existing.${String(k).padStart(6, '0')}@${DOMAIN}`

export function generateCsv (options: GenerateOptions): GeneratedCsv {
  const rand = prng(options.seed ?? 42)
  const pUpdate = options.update ?? 0.02
  const pDelete = options.delete ?? 0.01
  const pInvalid = options.invalid ?? 0.005
  const out: string[] = [HEADER.join(';')]
  const existing: ExistingUser[] = []
  const counts = { create: 0, update: 0, delete: 0, invalid: 0 }

  for (let i = 0; i < options.lines; i++) {
    const c = chooseCountry(rand)
    const first = pick(rand, c.firstNames)
    const last = pick(rand, c.lastNames)
    const roll = rand()
    const action = roll < pDelete ? 'delete' : roll < pDelete + pUpdate ? 'update' : 'create'
    let loginEmail: string
    if (action === 'create') {
      loginEmail = `${slug(first)}.${slug(last)}.${String(i).padStart(6, '0')}@${DOMAIN}`
    } else {
      loginEmail = existingLogin(existing.length)
      existing.push({ loginEmail, firstName: first, lastName: last, country: c.alpha3 })
    }
    counts[action]++
    if (action === 'delete') {
      out.push(`delete;${loginEmail}${';'.repeat(HEADER.length - 2)}`)
      continue
    }
    const cells: string[] = [
      action,
      loginEmail,
      action === 'create' || rand() < 0.2 ? password(rand) : '',
      pick(rand, TITLES),
      first,
      last,
      `${slug(first).slice(0, 1)}${slug(last)}`,
      validPhone(rand, c.landline),
      rand() < 0.3 ? validPhone(rand, c.landline) : '',
      validPhone(rand, c.mobile),
      `${slug(first)}.${slug(last)}${Math.floor(rand() * 1000)}@${pick(rand, PERSONAL_DOMAINS)}`,
      pick(rand, JOB_TITLES),
      pick(rand, DEPARTMENTS),
      `EMP-${digits(rand, 7)}`,
      c.alpha3,
      pick(rand, c.languages),
      pick(rand, c.zones),
      pick(rand, ACCOUNT_TYPES),
      rand() < 0.5 ? 'true' : 'false',
      pick(rand, SITES),
      rand() < 0.6 ? pick(rand, TEAMS) : '',
    ]
    if (rand() < pInvalid) {
      pick(rand, BREAKERS)(cells)
      counts.invalid++
    }
    out.push(cells.map(quoteIfNeeded).join(';'))
  }
  return { text: out.join('\n') + '\n', existing, counts }
}

// `%` starts a comment unless quoted (D9): a password holding one is quoted, as the template says.
function quoteIfNeeded (cell: string): string {
  return /[;"%\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell
}

function argValue (args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}

function main (args: string[]): void {
  const lines = Number(argValue(args, 'lines') ?? 100_000)
  const outPath = argValue(args, 'out')
  if (!Number.isInteger(lines) || lines < 1 || outPath === undefined) {
    console.error('usage: tsx bench/csv-generate.ts --lines N --out FILE [--seed S] [--update P] [--delete P] [--invalid P]')
    process.exitCode = 2
    return
  }
  const num = (name: string) => { const v = argValue(args, name); return v === undefined ? undefined : Number(v) }
  const started = performance.now()
  const { text, existing, counts } = generateCsv({ lines, seed: num('seed'), update: num('update'), delete: num('delete'), invalid: num('invalid') })
  const bytes = Buffer.from(text, 'utf8')
  writeFileSync(outPath, bytes)
  console.log(`${outPath}: ${lines} lines, ${(bytes.length / 1e6).toFixed(1)} MB (${Math.round(bytes.length / lines)} bytes/line), ` +
    `${counts.create} create, ${counts.update} update, ${counts.delete} delete (${existing.length} existing users named), ` +
    `${counts.invalid} with an error, in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2))
