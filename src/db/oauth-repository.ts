import type { Queryable } from './db.js'

export interface FlowRow {
  bindingHash: string
  clientId: string
  redirectUri: string
  state: string | null
  codeChallenge: string
  scope: string
  userId: string | null
}

export interface CodeRow {
  clientId: string
  userId: string
  redirectUri: string
  codeChallenge: string
  scope: string
  expired: boolean
  /** The use that claimed it was an earlier one. */
  reused: boolean
}

export interface RefreshRow {
  familyId: string
  clientId: string
  userId: string
  scope: string
  expired: boolean
  familyRevoked: boolean
  used: boolean
}

export async function insertFlow (q: Queryable, flow: FlowRow & { idHash: string, ttlSeconds: number }): Promise<void> {
  await q.query('DELETE FROM oauth_flows WHERE expires_at < now()')
  await q.query(`INSERT INTO oauth_flows (id_hash, binding_hash, client_id, redirect_uri, state, code_challenge, scope, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
  [flow.idHash, flow.bindingHash, flow.clientId, flow.redirectUri, flow.state, flow.codeChallenge, flow.scope, flow.ttlSeconds])
}

export async function findLiveFlow (q: Queryable, idHash: string): Promise<FlowRow | undefined> {
  const rows = await q.query<FlowRow>(`SELECT binding_hash AS "bindingHash", client_id AS "clientId", redirect_uri AS "redirectUri", state,
      code_challenge AS "codeChallenge", scope, user_id AS "userId"
    FROM oauth_flows WHERE id_hash = $1 AND expires_at > now()`, [idHash])
  return rows[0]
}

export async function setFlowUser (q: Queryable, idHash: string, userId: string): Promise<void> {
  await q.query('UPDATE oauth_flows SET user_id = $2 WHERE id_hash = $1', [idHash, userId])
}

/** True for the one caller that ended the flow: a consent form posted twice gives one code. */
export async function deleteFlow (q: Queryable, idHash: string): Promise<boolean> {
  const rows = await q.query('DELETE FROM oauth_flows WHERE id_hash = $1 RETURNING id_hash', [idHash])
  return rows.length > 0
}

export async function insertCode (q: Queryable, code: Omit<CodeRow, 'expired' | 'reused'> & { codeHash: string, ttlSeconds: number }): Promise<void> {
  await q.query('DELETE FROM oauth_codes WHERE expires_at < now() - interval \'1 day\'')
  await q.query(`INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, scope, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
  [code.codeHash, code.clientId, code.userId, code.redirectUri, code.codeChallenge, code.scope, code.ttlSeconds])
}

/**
 * Marks the code used and returns it; the UPDATE's row lock makes two concurrent redemptions see one
 * winner (reused: false) and one loser (reused: true). Used codes are kept a day so a replay is recognised.
 */
export async function claimCode (q: Queryable, codeHash: string): Promise<CodeRow | undefined> {
  const claimed = await q.query<CodeRow>(`UPDATE oauth_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL
    RETURNING client_id AS "clientId", user_id AS "userId", redirect_uri AS "redirectUri", code_challenge AS "codeChallenge", scope,
      expires_at <= now() AS expired, false AS reused`, [codeHash])
  if (claimed[0]) return claimed[0]
  const used = await q.query<CodeRow>(`SELECT client_id AS "clientId", user_id AS "userId", redirect_uri AS "redirectUri",
      code_challenge AS "codeChallenge", scope, expires_at <= now() AS expired, true AS reused
    FROM oauth_codes WHERE code_hash = $1`, [codeHash])
  return used[0]
}

export async function insertFamily (q: Queryable, family: { id: string, clientId: string, userId: string, scope: string, codeHash: string }): Promise<void> {
  await q.query('INSERT INTO oauth_families (id, client_id, user_id, scope, code_hash) VALUES ($1, $2, $3, $4, $5)',
    [family.id, family.clientId, family.userId, family.scope, family.codeHash])
}

export async function insertRefreshToken (q: Queryable, token: { tokenHash: string, familyId: string, ttlSeconds: number }): Promise<void> {
  // A day past expiry a replay is refused as unknown anyway; the rows need not be kept.
  await q.query('DELETE FROM oauth_refresh_tokens WHERE expires_at < now() - interval \'1 day\'')
  await q.query('INSERT INTO oauth_refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))',
    [token.tokenHash, token.familyId, token.ttlSeconds])
}

export async function findRefreshToken (q: Queryable, tokenHash: string): Promise<RefreshRow | undefined> {
  const rows = await q.query<RefreshRow>(`SELECT f.id AS "familyId", f.client_id AS "clientId", f.user_id AS "userId", f.scope,
      r.expires_at <= now() AS expired, f.revoked_at IS NOT NULL AS "familyRevoked", r.used_at IS NOT NULL AS used
    FROM oauth_refresh_tokens r JOIN oauth_families f ON f.id = r.family_id WHERE r.token_hash = $1`, [tokenHash])
  return rows[0]
}

/** Rotation lets each refresh token be used once: of two concurrent uses, one gets false. */
export async function markRefreshTokenUsed (q: Queryable, tokenHash: string): Promise<boolean> {
  const rows = await q.query('UPDATE oauth_refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING token_hash', [tokenHash])
  return rows.length > 0
}

export async function revokeFamily (q: Queryable, familyId: string): Promise<void> {
  await q.query('UPDATE oauth_families SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [familyId])
}

export async function revokeFamiliesOfCode (q: Queryable, codeHash: string): Promise<number> {
  const rows = await q.query('UPDATE oauth_families SET revoked_at = now() WHERE code_hash = $1 AND revoked_at IS NULL RETURNING id', [codeHash])
  return rows.length
}

export async function revokeFamiliesOfUser (q: Queryable, userId: string): Promise<number> {
  const rows = await q.query('UPDATE oauth_families SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id', [userId])
  return rows.length
}

export async function isFamilyRevoked (q: Queryable, familyId: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM oauth_families WHERE id = $1 AND revoked_at IS NULL', [familyId])
  return rows.length === 0
}
