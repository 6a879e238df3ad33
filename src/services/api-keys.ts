import type { Queryable } from '../db/db.js'
import { findLiveApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey } from '../db/api-keys-repository.js'
import { findLiveUserById } from '../db/users-repository.js'
import { newId } from '../util/ids.js'
import { newSecret, sha256Hex } from './app-credentials.js'

export class ApiKeyError extends Error {}

/**
 * A user's API keys, for the SDK's API-key mode (x-rainbow-api-key): created by the admin CLI and
 * shown once, kept as SHA-256 only, revocable, listed without their values.
 */
export const createApiKeyService = (db: Queryable) => ({
  async create (userId: string): Promise<{ keyId: string, userId: string, apiKey: string }> {
    if (!(await findLiveUserById(db, userId))) throw new ApiKeyError(`no live user ${userId}`)
    const keyId = newId()
    const apiKey = newSecret()
    await insertApiKey(db, { id: keyId, userId, keyHash: sha256Hex(apiKey) })
    return { keyId, userId, apiKey }
  },

  async revoke (keyId: string): Promise<{ keyId: string, revoked: true }> {
    if (!(await revokeApiKey(db, keyId))) throw new ApiKeyError(`no active API key ${keyId}`)
    return { keyId, revoked: true }
  },

  async list (userId: string) {
    const keys = await listApiKeys(db, userId)
    return keys.map((k) => ({ keyId: k.id, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null }))
  },

  /** The user id of a live key, or undefined. */
  async userOf (apiKey: string): Promise<string | undefined> {
    return (await findLiveApiKeyByHash(db, sha256Hex(apiKey.trim())))?.userId
  },
})

export type ApiKeyService = ReturnType<typeof createApiKeyService>
