import type { Queryable } from './db.js'

export interface ApplicationRow {
  id: string
  name: string
  secretEncrypted: string
  isActive: boolean
  redirectUris: string[]
  /** null: a public OAuth client. */
  clientSecretHash: string | null
  oauthScopes: string[]
}

export interface OAuthSettings {
  redirectUris: string[]
  clientSecretHash: string | null
}

const SELECT = `SELECT id, name, secret_encrypted AS "secretEncrypted", is_active AS "isActive", redirect_uris AS "redirectUris",
  client_secret_hash AS "clientSecretHash", oauth_scopes AS "oauthScopes" FROM applications`

export async function insertApplication (q: Queryable, app: { id: string, name: string, secretEncrypted: string, apiTokenHash: string } & Partial<OAuthSettings>): Promise<void> {
  await q.query('INSERT INTO applications (id, name, secret_encrypted, api_token_hash, redirect_uris, client_secret_hash) VALUES ($1, $2, $3, $4, $5, $6)',
    [app.id, app.name, app.secretEncrypted, app.apiTokenHash, app.redirectUris ?? [], app.clientSecretHash ?? null])
}

/** The row under this fixed id unless it exists already (two processes starting at once both get true). */
export async function insertApplicationIfAbsent (q: Queryable, app: { id: string, name: string, secretEncrypted: string, apiTokenHash: string, redirectUris: string[] }): Promise<void> {
  await q.query(`INSERT INTO applications (id, name, secret_encrypted, api_token_hash, redirect_uris, client_secret_hash)
    VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (id) DO NOTHING`,
  [app.id, app.name, app.secretEncrypted, app.apiTokenHash, app.redirectUris])
}

/** Only the settings given change; false when there is no such application. */
export async function updateOAuthSettings (q: Queryable, id: string, settings: Partial<OAuthSettings>): Promise<boolean> {
  const rows = await q.query(`UPDATE applications SET
      redirect_uris = CASE WHEN $2::boolean THEN $3::text[] ELSE redirect_uris END,
      client_secret_hash = CASE WHEN $4::boolean THEN $5 ELSE client_secret_hash END
    WHERE id = $1 RETURNING id`,
  [id, settings.redirectUris !== undefined, settings.redirectUris ?? [], settings.clientSecretHash !== undefined, settings.clientSecretHash ?? null])
  return rows.length > 0
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
