import type { Queryable } from './db.js'

export interface CompanyRow {
  id: string
  name: string
  organizationId: string | null
  createdAt: Date
}

const COLUMNS = 'id, name, organization_id AS "organizationId", created_at AS "createdAt"'

export async function insertOrganization (q: Queryable, org: { id: string, name: string }): Promise<void> {
  await q.query('INSERT INTO organizations (id, name) VALUES ($1, $2)', [org.id, org.name])
}

export async function findOrganizationByName (q: Queryable, name: string): Promise<{ id: string } | undefined> {
  const rows = await q.query<{ id: string }>('SELECT id FROM organizations WHERE name = $1 ORDER BY created_at LIMIT 1', [name])
  return rows[0]
}

export async function insertCompany (q: Queryable, c: { id: string, name: string, organizationId: string | null }): Promise<void> {
  await q.query('INSERT INTO companies (id, name, organization_id) VALUES ($1, $2, $3)', [c.id, c.name, c.organizationId])
}

export async function findCompany (q: Queryable, id: string): Promise<CompanyRow | undefined> {
  const rows = await q.query<CompanyRow>(`SELECT ${COLUMNS} FROM companies WHERE id = $1`, [id])
  return rows[0]
}

export async function countCompanies (q: Queryable): Promise<number> {
  const rows = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM companies')
  return rows[0]?.n ?? 0
}

/**
 * Which companies a listing covers (D12): every one, or the caller's own plus, for an
 * organization_admin, those of its organization. company-scope.ts decides which applies.
 */
export type CompanyFilter = { all: true } | { all: false, companyId: string, organizationId: string | null }

export interface CompanyListItem { id: string, name: string, organizationId: string | null }

/** A page of the companies the filter covers, by name (then id), with those whose name contains `name` (without case) only. */
export async function listCompanies (
  q: Queryable, filter: CompanyFilter, page: { limit: number, offset: number, name?: string | undefined }
): Promise<{ rows: CompanyListItem[], total: number }> {
  const where = `($1::boolean OR id = $2::text OR ($3::text IS NOT NULL AND organization_id = $3::text))
    AND ($4::text IS NULL OR position(lower($4::text) IN lower(name)) > 0)`
  const params = filter.all
    ? [true, null, null, page.name ?? null]
    : [false, filter.companyId, filter.organizationId, page.name ?? null]
  const rows = await q.query<CompanyListItem>(
    `SELECT id, name, organization_id AS "organizationId" FROM companies WHERE ${where} ORDER BY name, id LIMIT $5 OFFSET $6`,
    [...params, page.limit, page.offset])
  const count = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM companies WHERE ${where}`, params)
  return { rows, total: count[0]?.n ?? 0 }
}
