import type { Queryable } from './db.js'

export interface EmailEntry { email: string, type: 'home' | 'work' | 'other' }
export interface PhoneEntry {
  number: string
  numberE164?: string
  country?: string
  type: 'home' | 'work' | 'other'
  deviceType: 'landline' | 'mobile' | 'fax' | 'other'
  isVisibleByOthers?: boolean
}

/** User fields a CSV line writes, by the admin API's names. */
export interface WritableUserFields {
  title?: string | null
  firstName?: string | null
  lastName?: string | null
  nickName?: string | null
  jobTitle?: string | null
  department?: string | null
  userInfo1?: string | null
  userInfo2?: string | null
  country?: string | null
  language?: string | null
  timezone?: string | null
  visibility?: string | null
  accountType?: string
  isInitialized?: boolean
  authenticationType?: string | null
  selectedAppCustomisationTemplateName?: string | null
  photoUrl?: string | null
  ldapId?: string | null
  tags?: string[]
  services?: string[]
  emails?: EmailEntry[]
  phoneNumbers?: PhoneEntry[]
}

/** Field → column and SQL cast: the only place that knows how a field is stored. */
const COLUMNS: Record<keyof WritableUserFields, { column: string, cast: string }> = {
  title: { column: 'title', cast: 'text' },
  firstName: { column: 'first_name', cast: 'text' },
  lastName: { column: 'last_name', cast: 'text' },
  nickName: { column: 'nick_name', cast: 'text' },
  jobTitle: { column: 'job_title', cast: 'text' },
  department: { column: 'department', cast: 'text' },
  userInfo1: { column: 'user_info1', cast: 'text' },
  userInfo2: { column: 'user_info2', cast: 'text' },
  country: { column: 'country', cast: 'text' },
  language: { column: 'language', cast: 'text' },
  timezone: { column: 'timezone', cast: 'text' },
  visibility: { column: 'visibility', cast: 'text' },
  accountType: { column: 'account_type', cast: 'text' },
  isInitialized: { column: 'is_initialized', cast: 'boolean' },
  authenticationType: { column: 'authentication_type', cast: 'text' },
  selectedAppCustomisationTemplateName: { column: 'selected_app_customisation_template_name', cast: 'text' },
  photoUrl: { column: 'photo_url', cast: 'text' },
  ldapId: { column: 'ldap_id', cast: 'text' },
  tags: { column: 'tags', cast: 'text[]' },
  services: { column: 'services', cast: 'text[]' },
  emails: { column: 'emails', cast: 'jsonb' },
  phoneNumbers: { column: 'phone_numbers', cast: 'jsonb' },
}

/** The select list of these writable fields (all by default) under their API names, e.g. `u.first_name AS "firstName"`. */
export function writableFieldsSelect (alias: string, fields: ReadonlyArray<keyof WritableUserFields> = Object.keys(COLUMNS) as Array<keyof WritableUserFields>): string {
  return fields.map((key) => `, ${alias}.${COLUMNS[key].column} AS "${key}"`).join('')
}

// One statement per kind of change for many lines (a line applied alone is a batch of one). The rows travel as one jsonb
// array read with jsonb_to_recordset, typed by each column's cast (text[], jsonb and boolean included),
// one parameter whatever the chunk size. Only the columns the lines set are declared, rather than
// building a whole users row for each line (jsonb_populate_recordset): 5–10% less time on PGlite.

export interface NewProvisionedUser { id: string, companyId: string, loginEmail: string, passwordHash: string | null, jidIm: string, fields: WritableUserFields }
export interface ProvisionedUserUpdate { id: string, fields: WritableUserFields, passwordHash: string | null }

function storedRow (fields: WritableUserFields, extra: Record<string, unknown>): { row: Record<string, unknown>, columns: string[] } {
  const row: Record<string, unknown> = { ...extra }
  const columns: string[] = []
  for (const [key, value] of Object.entries(fields)) {
    const spec = COLUMNS[key as keyof WritableUserFields]
    if (!spec || value === undefined) continue
    row[spec.column] = value
    columns.push(spec.column)
  }
  return { row, columns }
}

const CAST_OF: Record<string, string> = {
  id: 'char(24)',
  company_id: 'char(24)',
  login_email: 'text',
  password_hash: 'text',
  jid_im: 'text',
  ...Object.fromEntries(Object.values(COLUMNS).map((c) => [c.column, c.cast])),
}

/** `jsonb_to_recordset($1::jsonb) AS t(id char(24), first_name text, …)` for these columns. */
const recordset = (columns: readonly string[]) => `jsonb_to_recordset($1::jsonb) AS t(${columns.map((c) => `${c} ${CAST_OF[c]!}`).join(', ')})`

/** Rows grouped by the columns they set: a column left out keeps its default (insert) or its value (update). */
function bySignature<T> (items: readonly T[], toRow: (item: T) => { row: Record<string, unknown>, columns: string[] }): Array<{ columns: string[], rows: Array<Record<string, unknown>> }> {
  const groups = new Map<string, { columns: string[], rows: Array<Record<string, unknown>> }>()
  for (const item of items) {
    const { row, columns } = toRow(item)
    const key = columns.join(',')
    let group = groups.get(key)
    if (!group) groups.set(key, group = { columns, rows: [] })
    group.rows.push(row)
  }
  return [...groups.values()]
}

export async function insertProvisionedUsers (q: Queryable, users: readonly NewProvisionedUser[]): Promise<void> {
  const groups = bySignature(users, (u) => storedRow(u.fields, { id: u.id, company_id: u.companyId, login_email: u.loginEmail, password_hash: u.passwordHash, jid_im: u.jidIm }))
  for (const { columns, rows } of groups) {
    const all = ['id', 'company_id', 'login_email', 'password_hash', 'jid_im', ...columns]
    const list = all.join(', ')
    await q.query(`INSERT INTO users (${list}) SELECT ${list} FROM ${recordset(all)}`, [JSON.stringify(rows)])
  }
}

/** Returns how many live users were updated (fewer than asked when some were deleted meanwhile). */
export async function updateProvisionedUsers (q: Queryable, updates: readonly ProvisionedUserUpdate[]): Promise<number> {
  let updated = 0
  for (const { columns, rows } of bySignature(updates, (u) => storedRow(u.fields, { id: u.id, password_hash: u.passwordHash }))) {
    const sets = [...columns.map((c) => `${c} = t.${c}`), 'password_hash = COALESCE(t.password_hash, u.password_hash)', 'updated_at = now()']
    const done = await q.query(
      `UPDATE users u SET ${sets.join(', ')} FROM ${recordset(['id', 'password_hash', ...columns])}
        WHERE u.id = t.id AND u.deleted_at IS NULL RETURNING u.id`, [JSON.stringify(rows)])
    updated += done.length
  }
  return updated
}

/** Soft delete (D10): the rows stay with their deletion time; their loginEmails are free again. */
export async function softDeleteUsers (q: Queryable, userIds: readonly string[]): Promise<number> {
  if (userIds.length === 0) return 0
  const rows = await q.query('UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = ANY($1::bpchar[]) AND deleted_at IS NULL RETURNING id', [userIds])
  return rows.length
}

export async function attachNumbers (q: Queryable, attachments: ReadonlyArray<{ numberId: string, userId: string, internalNumber: string | null, number: string | null }>): Promise<number> {
  if (attachments.length === 0) return 0
  const rows = await q.query(
    `UPDATE phone_numbers p SET user_id = t.u, internal_number = t.i, number = t.n,
       attached_at = CASE WHEN p.user_id IS DISTINCT FROM t.u THEN now() ELSE p.attached_at END, updated_at = now()
     FROM unnest($1::bpchar[], $2::bpchar[], $3::text[], $4::text[]) AS t(id, u, i, n) WHERE p.id = t.id RETURNING p.id`,
    [attachments.map((a) => a.numberId), attachments.map((a) => a.userId), attachments.map((a) => a.internalNumber), attachments.map((a) => a.number)])
  return rows.length
}

export async function detachNumbers (q: Queryable, numberIds: readonly string[]): Promise<number> {
  if (numberIds.length === 0) return 0
  const rows = await q.query('UPDATE phone_numbers SET user_id = NULL, attached_at = NULL, updated_at = now() WHERE id = ANY($1::bpchar[]) RETURNING id', [numberIds])
  return rows.length
}

/** A revert brings back users a line deleted (D10 kept their rows): only those still deleted. */
export async function restoreUsers (q: Queryable, userIds: readonly string[]): Promise<number> {
  if (userIds.length === 0) return 0
  const rows = await q.query('UPDATE users SET deleted_at = NULL, updated_at = now() WHERE id = ANY($1::bpchar[]) AND deleted_at IS NOT NULL RETURNING id', [userIds])
  return rows.length
}

/** A revert sets back a password the line gave a user who had none. */
export async function clearPasswords (q: Queryable, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return
  await q.query('UPDATE users SET password_hash = NULL WHERE id = ANY($1::bpchar[]) AND deleted_at IS NULL', [userIds])
}

export interface NumberRestore { numberId: string, userId: string | null, internalNumber: string | null, number: string | null, attachedAt: string | null }

/** A revert puts numbers back exactly as a line found them: holder, numbers and attachment time. */
export async function restoreNumbers (q: Queryable, numbers: readonly NumberRestore[]): Promise<number> {
  if (numbers.length === 0) return 0
  const rows = await q.query(
    `UPDATE phone_numbers p SET user_id = t.u, internal_number = t.i, number = t.n, attached_at = t.a, updated_at = now()
       FROM unnest($1::bpchar[], $2::bpchar[], $3::text[], $4::text[], $5::timestamptz[]) AS t(id, u, i, n, a) WHERE p.id = t.id RETURNING p.id`,
    [numbers.map((n) => n.numberId), numbers.map((n) => n.userId), numbers.map((n) => n.internalNumber), numbers.map((n) => n.number), numbers.map((n) => n.attachedAt)])
  return rows.length
}
