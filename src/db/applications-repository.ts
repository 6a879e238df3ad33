import type { Queryable } from './db.js'

export interface ApplicationRow {
  id: string
  name: string
  secretEncrypted: string
  isActive: boolean
}

const SELECT = 'SELECT id, name, secret_encrypted AS "secretEncrypted", is_active AS "isActive" FROM applications'

export async function insertApplication (q: Queryable, app: { id: string, name: string, secretEncrypted: string, apiTokenHash: string }): Promise<void> {
  await q.query('INSERT INTO applications (id, name, secret_encrypted, api_token_hash) VALUES ($1, $2, $3, $4)',
    [app.id, app.name, app.secretEncrypted, app.apiTokenHash])
}

export async function findApplicationById (q: Queryable, id: string): Promise<ApplicationRow | undefined> {
  const rows = await q.query<ApplicationRow>(`${SELECT} WHERE id = $1`, [id])
  return rows[0]
}

export async function findApplicationByTokenHash (q: Queryable, hash: string): Promise<ApplicationRow | undefined> {
  const rows = await q.query<ApplicationRow>(`${SELECT} WHERE api_token_hash = $1`, [hash])
  return rows[0]
}

/** Every stored application secret, to check or re-encrypt them under a new key. */
export async function listApplicationSecrets (q: Queryable): Promise<Array<Pick<ApplicationRow, 'id' | 'secretEncrypted'>>> {
  return q.query('SELECT id, secret_encrypted AS "secretEncrypted" FROM applications ORDER BY id')
}

export async function updateApplicationSecret (q: Queryable, id: string, secretEncrypted: string): Promise<void> {
  await q.query('UPDATE applications SET secret_encrypted = $2 WHERE id = $1', [id, secretEncrypted])
}
