import type { Queryable } from './db.js'

export async function revokeToken (q: Queryable, jti: string, expiresAt: Date): Promise<void> {
  await q.query('DELETE FROM revoked_tokens WHERE expires_at < now()')
  await q.query('INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt])
}

export async function isTokenRevoked (q: Queryable, jti: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti])
  return rows.length > 0
}
