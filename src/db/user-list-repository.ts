import { manyRows, type Queryable } from './db.js'
import { writableFieldsSelect, type EmailEntry, type PhoneEntry, type WritableUserFields } from './users-write-repository.js'

/** Which users the connector's list holds (D12: none above the caller's rank; `ldapOnly`: only those with an ldap_id). */
export interface UserListScope { companyId: string, maxRank: number, ldapOnly: boolean }

/** A listed user: every writable field, and the first PBX number it holds. */
export type ListedUser = { id: string, loginEmail: string } & Required<Pick<WritableUserFields, 'tags' | 'services'>> &
  Omit<WritableUserFields, 'tags' | 'services' | 'emails' | 'phoneNumbers'> & {
    emails: EmailEntry[]
    phoneNumbers: PhoneEntry[]
    pbxId: string | null
    pbxShortNumber: string | null
    pbxInternalNumber: string | null
    pbxNumber: string | null
  }

/** The longest list of each indexed column family, so the header has a column for every value. */
export interface ListShape { tags: number, services: number, emails: number, landlines: number, mobiles: number }

const WHERE = `u.company_id = $1 AND u.deleted_at IS NULL AND u.role_rank <= $2
  AND (NOT $3::boolean OR (u.ldap_id IS NOT NULL AND u.ldap_id <> ''))`

export async function userListShape (q: Queryable, s: UserListScope): Promise<ListShape> {
  const rows = await q.query<ListShape>(
    `SELECT coalesce(max(cardinality(u.tags)), 0)::int AS tags, coalesce(max(cardinality(u.services)), 0)::int AS services,
            coalesce(max(jsonb_array_length(u.emails)), 0)::int AS emails,
            coalesce(max((SELECT count(*) FROM jsonb_array_elements(u.phone_numbers) p WHERE p->>'deviceType' IS DISTINCT FROM 'mobile')), 0)::int AS landlines,
            coalesce(max((SELECT count(*) FROM jsonb_array_elements(u.phone_numbers) p WHERE p->>'deviceType' = 'mobile')), 0)::int AS mobiles
       FROM users u WHERE ${WHERE}`, [s.companyId, s.maxRank, s.ldapOnly])
  return rows[0] ?? { tags: 0, services: 0, emails: 0, landlines: 0, mobiles: 0 }
}

/**
 * One page of the list, by id after `afterId` (keyset: each page is one index range, however far
 * into 250,000 users). A user holding several PBX numbers is listed with the first (by PBX, short number).
 */
export async function userListPage (q: Queryable, s: UserListScope, afterId: string, limit: number): Promise<ListedUser[]> {
  return manyRows<ListedUser>(q,
    `SELECT u.id, u.login_email AS "loginEmail"${writableFieldsSelect('u')},
            h.pbx_id AS "pbxId", h.short_number AS "pbxShortNumber", h.internal_number AS "pbxInternalNumber", h.number AS "pbxNumber"
       FROM users u
       LEFT JOIN LATERAL (
         SELECT s.pbx_id, n.short_number, n.internal_number, n.number
           FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id
          WHERE n.user_id = u.id ORDER BY s.pbx_id, n.short_number LIMIT 1) h ON true
      WHERE ${WHERE} AND u.id > $4
      ORDER BY u.id LIMIT $5`, [s.companyId, s.maxRank, s.ldapOnly, afterId, limit])
}
