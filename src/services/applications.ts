import type { Queryable } from '../db/db.js'
import { findApplicationById, findApplicationByTokenHash, insertApplication, type ApplicationRow } from '../db/applications-repository.js'
import { newId } from '../util/ids.js'
import { isSafeText } from '../util/safe-text.js'
import { Errors } from '../errors.js'
import { openSecret, type SecretsKeys } from './secrets-key.js'
import { encryptSecret, newSecret, parseAppAuthHeader, safeEqual, sha256Hex } from './app-credentials.js'

export interface CreatedApplication { appId: string, appSecret: string, apiToken: string }

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
    async create (name: string): Promise<CreatedApplication> {
      const appId = newId()
      const appSecret = newSecret()
      const apiToken = newSecret()
      await insertApplication(db, { id: appId, name, secretEncrypted: encryptSecret(secretsKey, appSecret), apiTokenHash: sha256Hex(apiToken) })
      return { appId, appSecret, apiToken }
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
