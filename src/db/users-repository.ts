import { setImmediate as turn } from 'node:timers/promises'
import { manyRows, pageAlongIndex, type Db, type Queryable } from './db.js'
import { writableFieldsSelect, type EmailEntry, type PhoneEntry, type WritableUserFields } from './users-write-repository.js'

export interface UserRow {
  id: string
  companyId: string
  companyName: string
  organizationId: string | null
  loginEmail: string
  passwordHash: string | null
  title: string | null
  firstName: string | null
  lastName: string | null
  nickName: string | null
  jobTitle: string | null
  department: string | null
  userInfo1: string | null
  userInfo2: string | null
  country: string | null
  state: string | null
  language: string | null
  timezone: string | null
  visibility: string | null
  accountType: string
  isInitialized: boolean
  authenticationType: string | null
  authenticationExternalUid: string | null
  selectedAppCustomisationTemplateName: string | null
  photoUrl: string | null
  ldapId: string | null
  tags: string[]
  services: string[]
  emails: EmailEntry[]
  phoneNumbers: PhoneEntry[]
  roles: string[]
  adminType: string | null
  /** D12: 0 user, 1 company admin, 2 organization admin, 3 superadmin (migration 0005 decides it). */
  roleRank: number
  isActive: boolean
  timeToLive: number
  jidIm: string
  createdAt: Date
  updatedAt: Date
}

/** The highest rank of migration 0005: whoever holds it sees and changes every user. */
export const SUPERADMIN_RANK = 3

export interface NewUser {
  id: string
  companyId: string
  loginEmail: string
  passwordHash: string | null
  firstName?: string | null
  lastName?: string | null
  roles: string[]
  adminType: string | null
  jidIm: string
  isInitialized?: boolean
}

const COLUMNS = `SELECT u.id, u.company_id AS "companyId", c.name AS "companyName", c.organization_id AS "organizationId",
  u.login_email AS "loginEmail", u.password_hash AS "passwordHash", u.title, u.first_name AS "firstName",
  u.last_name AS "lastName", u.nick_name AS "nickName", u.job_title AS "jobTitle", u.department,
  u.user_info1 AS "userInfo1", u.user_info2 AS "userInfo2", u.country, u.state, u.language, u.timezone,
  u.visibility, u.account_type AS "accountType", u.is_initialized AS "isInitialized",
  u.authentication_type AS "authenticationType", u.authentication_external_uid AS "authenticationExternalUid",
  u.selected_app_customisation_template_name AS "selectedAppCustomisationTemplateName", u.photo_url AS "photoUrl",
  u.ldap_id AS "ldapId", u.tags, u.services, u.emails, u.phone_numbers AS "phoneNumbers", u.roles,
  u.admin_type AS "adminType", u.role_rank AS "roleRank", u.is_active AS "isActive", u.time_to_live AS "timeToLive", u.jid_im AS "jidIm",
  u.created_at AS "createdAt", u.updated_at AS "updatedAt"`
const SELECT = `${COLUMNS} FROM users u JOIN companies c ON c.id = u.company_id`

export async function insertUser (q: Queryable, u: NewUser): Promise<void> {
  await q.query(
    `INSERT INTO users (id, company_id, login_email, password_hash, first_name, last_name, roles, admin_type, jid_im, is_initialized)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9, $10)`,
    [u.id, u.companyId, u.loginEmail, u.passwordHash, u.firstName ?? null, u.lastName ?? null, u.roles, u.adminType, u.jidIm, u.isInitialized ?? false])
}

export async function findLiveUserByEmail (q: Queryable, loginEmail: string): Promise<UserRow | undefined> {
  const rows = await q.query<UserRow>(`${SELECT} WHERE u.login_email = $1 AND u.deleted_at IS NULL`, [loginEmail.toLowerCase()])
  return rows[0]
}

export async function findLiveUserById (q: Queryable, id: string): Promise<UserRow | undefined> {
  const rows = await q.query<UserRow>(`${SELECT} WHERE u.id = $1 AND u.deleted_at IS NULL`, [id])
  return rows[0]
}

/**
 * The company's live users up to a rank (D12: a caller sees no user above its own rank); with
 * `loginEmail`, only that user (compared lower case, as stored).
 */
export async function listLiveUsers (
  q: Queryable, companyId: string, page: { limit: number, offset: number, loginEmail?: string | undefined }, maxRank: number
): Promise<{ rows: UserRow[], total: number }> {
  const email = page.loginEmail?.toLowerCase() ?? null
  const rows = await q.query<UserRow>(
    `${SELECT} WHERE u.company_id = $1 AND u.deleted_at IS NULL AND u.role_rank <= $2 AND ($3::text IS NULL OR u.login_email = $3::text)
      ORDER BY u.id LIMIT $4 OFFSET $5`,
    [companyId, maxRank, email, page.limit, page.offset])
  const count = await q.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM users WHERE company_id = $1 AND deleted_at IS NULL AND role_rank <= $2 AND ($3::text IS NULL OR login_email = $3::text)',
    [companyId, maxRank, email])
  return { rows, total: count[0]?.n ?? 0 }
}

/** What planning a line needs of its user: who it is and the fields its line can write. */
export type PlannedUser = Pick<UserRow, 'id' | 'companyId' | 'loginEmail' | 'roleRank'> & Partial<Pick<UserRow, keyof WritableUserFields>>

/**
 * The live users of these login e-mails, in any company, with the fields named (all by default).
 * One index probe per e-mail, whatever the statistics say: PGlite never analyses its tables, and with
 * stale statistics both `= ANY($1)` and a plain join read every user of the server per call. Only the columns planning reads: each column of each row costs its conversion.
 */
export async function findLiveUsersByEmails (q: Queryable, loginEmails: readonly string[], fields?: ReadonlyArray<keyof WritableUserFields>): Promise<PlannedUser[]> {
  if (loginEmails.length === 0) return []
  return manyRows<PlannedUser>(q,
    `SELECT u.id, u.company_id AS "companyId", u.login_email AS "loginEmail", u.role_rank AS "roleRank"${writableFieldsSelect('u', fields)}
       FROM unnest($1::text[]) AS e(login_email)
      CROSS JOIN LATERAL (SELECT * FROM users WHERE login_email = e.login_email AND deleted_at IS NULL LIMIT 1) u`, [loginEmails])
}

/**
 * One keyset page of the company's live users, by id (index users_company_live), as planning needs
 * them: a check of a file that names most of the company reads it whole instead of per batch.
 */
export async function readCompanyUsersPage (db: Db, companyId: string, afterId: string, limit: number, fields: ReadonlyArray<keyof WritableUserFields>): Promise<PlannedUser[]> {
  const users = await pageAlongIndex(db, (tx) => manyRows<PlannedUser>(tx,
    `SELECT u.id, u.company_id AS "companyId", u.login_email AS "loginEmail", u.role_rank AS "roleRank"${writableFieldsSelect('u', fields)}
       FROM users u WHERE u.company_id = $1 AND u.deleted_at IS NULL AND u.id > $2 ORDER BY u.id LIMIT $3`, [companyId, afterId, limit]))
  // The caller's company id, not a copy per row (in place, so the rows keep their shape): planning
  // holds every user read until the file's last line.
  for (const u of users) u.companyId = companyId
  return users
}

/**
 * Every live login e-mail, or undefined when there are more than `limit` (too many to hold). Read
 * in keyset pages along users_login_email_live, each as one newline-separated text (a login e-mail
 * holds no newline): as 50,000 result rows it blocked PGlite's event loop for 190 ms.
 */
export async function listLiveLoginEmails (db: Db, limit: number, page = 20_000): Promise<string[] | undefined> {
  const emails: string[] = []
  for (let after = ''; ;) {
    const rows = await pageAlongIndex(db, (tx) => tx.query<{ t: string | null, n: number }>(
      `SELECT string_agg(login_email, E'\\n' ORDER BY login_email) AS t, count(*)::int AS n FROM (
         SELECT login_email FROM users WHERE deleted_at IS NULL AND login_email > $1 ORDER BY login_email LIMIT $2) x`, [after, page]))
    const { t, n } = rows[0] ?? { t: null, n: 0 }
    if (t) for (const e of t.split('\n')) emails.push(e)
    if (emails.length > limit) return undefined
    if (n < page) return emails
    after = emails[emails.length - 1]!
    await turn()
  }
}

/** The company's live users, whatever their rank: the base of the deletion safeguard (MAX_DELETE_PERCENT). */
export async function countLiveCompanyUsers (q: Queryable, companyId: string): Promise<number> {
  const rows = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE company_id = $1 AND deleted_at IS NULL', [companyId])
  return rows[0]?.n ?? 0
}

/** The JID command_ended notifications go to (CLI set-jid). Returns false when no live user has that login. */
export async function setUserJid (q: Queryable, loginEmail: string, jid: string): Promise<boolean> {
  const rows = await q.query('UPDATE users SET jid_im = $2, updated_at = now() WHERE login_email = $1 AND deleted_at IS NULL RETURNING id', [loginEmail.toLowerCase(), jid])
  return rows.length > 0
}
