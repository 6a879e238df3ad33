import type { Queryable } from '../db/db.js'
import { findApplicationById, findApplicationByTokenHash, insertApplication, insertApplicationIfAbsent, updateOAuthSettings, type ApplicationRow, type OAuthSettings } from '../db/applications-repository.js'
import { newId } from '../util/ids.js'
import { isSafeText } from '../util/safe-text.js'
import { Errors } from '../errors.js'
import { openSecret, type SecretsKeys } from './secrets-key.js'
import { encryptSecret, newSecret, parseAppAuthHeader, safeEqual, sha256Hex } from './app-credentials.js'
import { checkRedirectUri } from './redirect-uris.js'

export interface CreatedApplication { appId: string, appSecret: string, apiToken: string, clientSecret?: string }

export interface OAuthClientOptions {
  redirectUris?: string[]
  /** A public client has no client secret and proves itself by PKCE alone. */
  public?: boolean
}

export class ApplicationNotFoundError extends Error {}

export const createApplicationService = ({ db, secretsKey, previousSecretsKey }: { db: Queryable, secretsKey: Buffer, previousSecretsKey?: Buffer | undefined }) => {
  const keys: SecretsKeys = { current: secretsKey, previous: previousSecretsKey }
  async function activeApp (appId: string): Promise<ApplicationRow> {
    // A decoded header may hold a NUL, which names no application and which the database refuses.
    if (!isSafeText(appId)) throw Errors.badAppAuth()
    const app = await findApplicationById(db, appId)
    if (!app?.isActive) throw Errors.badAppAuth()
    return app
  }

  /** x-rainbow-app-auth = Basic base64(appId + ":" + sha256hex(appSecret + proof)), proof = password or challenge. */
  async function verifyDigest (header: string, proof: string): Promise<ApplicationRow> {
    const parsed = parseAppAuthHeader(header)
    if (!parsed) throw Errors.badAppAuth('Malformed x-rainbow-app-auth header')
    const app = await activeApp(parsed.appId)
    const expected = sha256Hex(openSecret(keys, app.secretEncrypted) + proof)
    if (!safeEqual(expected, parsed.digest)) throw Errors.badAppAuth()
    return app
  }

  return {
    /** Without redirect URIs the application is no OAuth client; a confidential one gets a client secret, shown only here. */
    async create (name: string, oauth: OAuthClientOptions = {}): Promise<CreatedApplication> {
      const appId = newId()
      const appSecret = newSecret()
      const apiToken = newSecret()
      const redirectUris = (oauth.redirectUris ?? []).map(checkRedirectUri)
      const clientSecret = redirectUris.length > 0 && !oauth.public ? newSecret() : undefined
      await insertApplication(db, {
        id: appId,
        name,
        secretEncrypted: encryptSecret(secretsKey, appSecret),
        apiTokenHash: sha256Hex(apiToken),
        redirectUris,
        clientSecretHash: clientSecret ? sha256Hex(clientSecret) : null,
      })
      return { appId, appSecret, apiToken, ...(clientSecret ? { clientSecret } : {}) }
    },

    /**
     * A public client under a fixed id (the console's), created on the first call; later calls add
     * redirect URIs it lacks, keeping the newest `keep`, so processes on other addresses share it.
     */
    async ensurePublicClient (id: string, name: string, redirectUris: string[], keep = 20): Promise<string[]> {
      const wanted = redirectUris.map(checkRedirectUri)
      await insertApplicationIfAbsent(db, { id, name, secretEncrypted: encryptSecret(secretsKey, newSecret()), apiTokenHash: sha256Hex(newSecret()), redirectUris: wanted })
      const row = await findApplicationById(db, id)
      if (!row) throw new ApplicationNotFoundError(`no application ${id}`)
      const merged = [...new Set([...row.redirectUris.filter((u) => !wanted.includes(u)), ...wanted])].slice(-keep)
      const same = merged.length === row.redirectUris.length && merged.every((u, i) => u === row.redirectUris[i])
      if (!same || row.clientSecretHash !== null) await updateOAuthSettings(db, id, { redirectUris: merged, clientSecretHash: null })
      return merged
    },

    /** public false issues a new client secret (also a rotation for a client that had one); true drops it. */
    async updateOAuth (appId: string, oauth: OAuthClientOptions): Promise<{ appId: string, clientSecret?: string }> {
      const settings: Partial<OAuthSettings> = {}
      if (oauth.redirectUris !== undefined) settings.redirectUris = oauth.redirectUris.map(checkRedirectUri)
      let clientSecret: string | undefined
      if (oauth.public === true) settings.clientSecretHash = null
      if (oauth.public === false) {
        clientSecret = newSecret()
        settings.clientSecretHash = sha256Hex(clientSecret)
      }
      if (!(await updateOAuthSettings(db, appId, settings))) throw new ApplicationNotFoundError(`no application ${appId}`)
      return { appId, ...(clientSecret ? { clientSecret } : {}) }
    },

    /** The active application registered as an OAuth client under this client_id, if any. */
    async findClient (clientId: string): Promise<ApplicationRow | undefined> {
      if (!/^[0-9a-f]{24}$/.test(clientId)) return undefined
      const app = await findApplicationById(db, clientId)
      return app?.isActive && app.redirectUris.length > 0 ? app : undefined
    },

    verifyClientSecret (app: ApplicationRow, secret: string): boolean {
      return app.clientSecretHash !== null && safeEqual(sha256Hex(secret), app.clientSecretHash)
    },

    verifyLogin: verifyDigest,

    async verifyApiToken (token: string): Promise<ApplicationRow> {
      const app = await findApplicationByTokenHash(db, sha256Hex(token.trim()))
      if (!app?.isActive) throw Errors.badAppAuth()
      return app
    },
  }
}

export type ApplicationService = ReturnType<typeof createApplicationService>
