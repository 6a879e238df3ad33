import type { Queryable } from './db.js'

export interface PbxRow { id: string, pbxId: string, companyId: string, name: string | null, numbers: number, createdAt: Date }
export interface PhoneNumberRow {
  id: string
  systemId: string
  pbxId: string
  companyId: string
  shortNumber: string
  internalNumber: string | null
  number: string | null
  userId: string | null
  attachedAt: Date | null
  /** The holder's rank (D12), read with the numbers planning involves: a force_attach may not take a number from above. */
  holderRank?: number | null
}
export interface NumberInput { shortNumber: string, internalNumber: string | null, number: string | null }

const PBX_SELECT = `SELECT s.id, s.pbx_id AS "pbxId", s.company_id AS "companyId", s.name, s.created_at AS "createdAt",
  (SELECT count(*)::int FROM phone_numbers n WHERE n.system_id = s.id) AS numbers FROM pbx_systems s`

export async function findPbx (q: Queryable, pbxId: string): Promise<PbxRow | undefined> {
  const rows = await q.query<PbxRow>(`${PBX_SELECT} WHERE s.pbx_id = $1`, [pbxId])
  return rows[0]
}

export async function insertPbx (q: Queryable, pbx: { id: string, pbxId: string, companyId: string, name: string | null }): Promise<void> {
  await q.query('INSERT INTO pbx_systems (id, pbx_id, company_id, name) VALUES ($1, $2, $3, $4)', [pbx.id, pbx.pbxId, pbx.companyId, pbx.name])
}

export async function listPbxs (q: Queryable, companyId: string): Promise<PbxRow[]> {
  return q.query<PbxRow>(`${PBX_SELECT} WHERE s.company_id = $1 ORDER BY s.pbx_id`, [companyId])
}

/** Upserts numbers by (system, shortNumber); returns how many were new. The holder is never touched. */
export async function upsertPhoneNumbers (q: Queryable, system: { id: string, companyId: string }, ids: string[], numbers: NumberInput[]): Promise<{ created: number, updated: number }> {
  const rows = await q.query<{ inserted: boolean }>(
    `INSERT INTO phone_numbers (id, system_id, company_id, short_number, internal_number, number)
     SELECT i, $1, $2, s, NULLIF(n_int, ''), NULLIF(n_pub, '')
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(i, s, n_int, n_pub)
     ON CONFLICT (system_id, short_number) DO UPDATE
       SET internal_number = EXCLUDED.internal_number, number = EXCLUDED.number, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [system.id, system.companyId, ids, numbers.map((n) => n.shortNumber), numbers.map((n) => n.internalNumber ?? ''), numbers.map((n) => n.number ?? '')])
  const created = rows.filter((r) => r.inserted).length
  return { created, updated: rows.length - created }
}

const NUMBER_COLUMNS = `SELECT n.id, n.system_id AS "systemId", s.pbx_id AS "pbxId", n.company_id AS "companyId", n.short_number AS "shortNumber",
  n.internal_number AS "internalNumber", n.number, n.user_id AS "userId", n.attached_at AS "attachedAt"`
const NUMBER_FROM = 'FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id'
const NUMBER_SELECT = `${NUMBER_COLUMNS} ${NUMBER_FROM}`

/** The numbers of a PBX; with `userId`, only those that user holds. */
export async function listPhoneNumbers (q: Queryable, systemId: string, userId?: string): Promise<PhoneNumberRow[]> {
  if (userId !== undefined) {
    return q.query<PhoneNumberRow>(`${NUMBER_SELECT} WHERE n.system_id = $1 AND n.user_id = $2 ORDER BY n.short_number`, [systemId, userId])
  }
  return q.query<PhoneNumberRow>(`${NUMBER_SELECT} WHERE n.system_id = $1 ORDER BY n.short_number`, [systemId])
}

/** The PBX numbers these users hold, for their views. */
export async function listNumbersHeldBy (q: Queryable, userIds: readonly string[]): Promise<PhoneNumberRow[]> {
  if (userIds.length === 0) return []
  return q.query<PhoneNumberRow>(`${NUMBER_SELECT} WHERE n.user_id = ANY($1::bpchar[]) ORDER BY s.pbx_id, n.short_number`, [userIds])
}

/** The company's numbers a file names (by short number) or that its users hold. */
export async function findNumbersInvolved (q: Queryable, companyId: string, shortNumbers: readonly string[], holderIds: readonly string[]): Promise<PhoneNumberRow[]> {
  if (shortNumbers.length === 0 && holderIds.length === 0) return []
  return q.query<PhoneNumberRow>(
    `${NUMBER_COLUMNS}, h.role_rank AS "holderRank" ${NUMBER_FROM} LEFT JOIN users h ON h.id = n.user_id
      WHERE (n.company_id = $1 AND n.short_number = ANY($2::text[])) OR n.user_id = ANY($3::bpchar[])
      ORDER BY s.pbx_id, n.short_number`, [companyId, shortNumbers, holderIds])
}

/**
 * Every number of the company a live user of the company holds (a check that read the company's
 * users whole; a number is attached only within its company). From the numbers, each holder by its
 * key: joined from the users side, PostgreSQL without statistics read all of them (51 ms at 50,000
 * users, against under 1 ms).
 */
export async function findNumbersHeldInCompany (q: Queryable, companyId: string): Promise<PhoneNumberRow[]> {
  return q.query<PhoneNumberRow>(
    `${NUMBER_COLUMNS}, h.role_rank AS "holderRank" ${NUMBER_FROM}
       CROSS JOIN LATERAL (SELECT role_rank FROM users WHERE id = n.user_id AND company_id = $1 AND deleted_at IS NULL LIMIT 1) h
      WHERE n.company_id = $1 AND n.user_id IS NOT NULL ORDER BY s.pbx_id, n.short_number`, [companyId])
}

/** PBX ids of the company, to tell "no such PBX" (1001) from "no such extension" (1003). */
export async function listCompanyPbxIds (q: Queryable, companyId: string): Promise<string[]> {
  const rows = await q.query<{ pbxId: string }>('SELECT pbx_id AS "pbxId" FROM pbx_systems WHERE company_id = $1', [companyId])
  return rows.map((r) => r.pbxId)
}
