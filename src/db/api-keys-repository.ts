import type { Queryable } from './db.js'

export interface ApiKeyRow {
  id: string
  userId: string
  createdAt: Date
  revokedAt: Date | null
}

const COLUMNS = 'id, user_id AS "userId", created_at AS "createdAt", revoked_at AS "revokedAt"'

export async function insertApiKey (q: Queryable, key: { id: string, userId: string, keyHash: string }): Promise<void> {
  await q.query('INSERT INTO user_api_keys (id, user_id, key_hash) VALUES ($1, $2, $3)', [key.id, key.userId, key.keyHash])
}

/** The key with this hash, unless revoked. */
export async function findLiveApiKeyByHash (q: Queryable, keyHash: string): Promise<ApiKeyRow | undefined> {
  const rows = await q.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM user_api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash])
  return rows[0]
}

/** Revokes a key; false when there is no such key or it was revoked already. */
export async function revokeApiKey (q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query('UPDATE user_api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id])
  return rows.length > 0
}

/** A user's keys, newest first, never their values (only hashes are kept). */
export async function listApiKeys (q: Queryable, userId: string): Promise<ApiKeyRow[]> {
  return q.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM user_api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId])
}
