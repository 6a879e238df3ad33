import { Readable } from 'node:stream'
import { COLUMNS, headerNameOf, type ColumnSpec } from '../csv/columns.js'
import type { Queryable } from '../db/db.js'
import { userListPage, userListShape, type ListShape, type ListedUser, type UserListScope } from '../db/user-list-repository.js'

export type UserListFormat = 'csv' | 'json' | 'all'

const PAGE = 1000
const DELIMITER = ';'

interface Column { name: string, cell: (u: ListedUser) => string }

const text = (v: unknown): string => v === null || v === undefined ? '' : String(v)

// Quoted when parsing would change it: the delimiter, a quote, the comment character, a line break
// or white space at an end (values are trimmed).
const NEEDS_QUOTES = /[;"%\r\n]|^\s|\s$/
const csvCell = (v: string): string => NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v

const landlines = (u: ListedUser) => u.phoneNumbers.filter((p) => p.deviceType !== 'mobile')
const mobiles = (u: ListedUser) => u.phoneNumbers.filter((p) => p.deviceType === 'mobile')
const e164 = (p: { number: string, numberE164?: string } | undefined) => p === undefined ? '' : p.numberE164 ?? p.number

/** How many columns of each indexed family: the longest list, at least the template's one (index 0). */
function countOf (spec: ColumnSpec, shape: ListShape): number {
  const max = spec.indexed?.max ?? 0
  const n = { tags: shape.tags, services: shape.services, emails: shape.emails, businessPhones: shape.landlines, mobilePhones: shape.mobiles }[spec.target as string] ?? 1
  return Math.min(Math.max(n, 1), max + 1)
}

/** The cell of an indexed column n for a user. */
function indexedCell (spec: ColumnSpec, n: number): (u: ListedUser) => string {
  switch (spec.target) {
    case 'tags': return (u) => text(u.tags[n])
    case 'services': return (u) => text(u.services[n])
    case 'emails': return (u) => text(u.emails[n]?.email)
    case 'businessPhones': return (u) => e164(landlines(u)[n])
    case 'mobilePhones': return (u) => e164(mobiles(u)[n])
    default: throw new Error(`no list for column ${spec.name}`)
  }
}

const DEVICE: Record<string, (u: ListedUser) => string> = {
  pbxId: (u) => text(u.pbxId),
  pbxShortNumber: (u) => text(u.pbxShortNumber),
  pbxInternalNumber: (u) => text(u.pbxInternalNumber),
  number: (u) => text(u.pbxNumber),
}

/**
 * The useranddevice columns (registry order, the hidden ldap_id included, no password), each indexed
 * family as wide as the company's longest list. `__action__` is `sync`: posted back, the file asks
 * for exactly what is stored.
 */
export function userListColumns (shape: ListShape): Column[] {
  const out: Column[] = []
  for (const spec of COLUMNS) {
    if (spec.modes.useranddevice === undefined || spec.target === 'password') continue
    if (spec.target === 'action') out.push({ name: spec.name, cell: () => 'sync' })
    else if (spec.target === 'loginEmail') out.push({ name: spec.name, cell: (u) => u.loginEmail })
    else if (spec.indexed) for (let n = 0; n < countOf(spec, shape); n++) out.push({ name: headerNameOf(spec, n), cell: indexedCell(spec, n) })
    else if (DEVICE[spec.name]) out.push({ name: spec.name, cell: DEVICE[spec.name]! })
    else {
      const key = spec.target as keyof ListedUser
      out.push({ name: spec.name, cell: (u) => text(u[key]) })
    }
  }
  return out
}

async function * pages (db: Queryable, scope: UserListScope, size: number): AsyncGenerator<ListedUser[]> {
  let after = ''
  for (;;) {
    const page = await userListPage(db, scope, after, size)
    if (page.length === 0) return
    yield page
    if (page.length < size) return
    after = page[page.length - 1]!.id
  }
}

/** `["header", "line", …]`: every line a JSON string. */
async function * csvLines (db: Queryable, scope: UserListScope, columns: Column[], size: number): AsyncGenerator<string> {
  yield `[${JSON.stringify(columns.map((c) => c.name).join(DELIMITER))}`
  for await (const page of pages(db, scope, size)) {
    let chunk = ''
    for (const u of page) chunk += `,${JSON.stringify(columns.map((c) => csvCell(c.cell(u))).join(DELIMITER))}`
    yield chunk
  }
  yield ']'
}

/** `{"<loginEmail>": {"<column>": "<cell>", …}, …}`: the CSV's cells keyed by its column names, per user. */
async function * jsonUsers (db: Queryable, scope: UserListScope, columns: Column[], size: number): AsyncGenerator<string> {
  const named = columns.filter((c) => c.name !== '__action__')
  let first = true
  yield '{'
  for await (const page of pages(db, scope, size)) {
    let chunk = ''
    for (const u of page) {
      chunk += `${first ? '' : ','}${JSON.stringify(u.loginEmail)}:${JSON.stringify(Object.fromEntries(named.map((c) => [c.name, c.cell(u)])))}`
      first = false
    }
    yield chunk
  }
  yield '}'
}

/**
 * GET /users/synchronize (D19), written as it is read: pages of users by id, so 250,000 users are
 * never in memory at once. `all` reads the users twice (once per content).
 */
export async function streamUserList (db: Queryable, scope: UserListScope, format: UserListFormat, pageSize = PAGE): Promise<Readable> {
  const columns = userListColumns(await userListShape(db, scope))
  async function * body (): AsyncGenerator<string> {
    if (format === 'csv') {
      yield '{"data":'
      yield * csvLines(db, scope, columns, pageSize)
    } else if (format === 'json') {
      yield '{"data":'
      yield * jsonUsers(db, scope, columns, pageSize)
    } else {
      yield '{"data":{"jsonContent":'
      yield * jsonUsers(db, scope, columns, pageSize)
      yield ',"csvContent":'
      yield * csvLines(db, scope, columns, pageSize)
      yield '}'
    }
    yield '}'
  }
  return Readable.from(body())
}
