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
