import type { Db, Queryable } from '../db/db.js'
import { listApplicationSecrets, updateApplicationSecret } from '../db/applications-repository.js'
import { decryptSecret, encryptSecret } from './app-credentials.js'

/**
 * The keys that encrypt application secrets at rest: `current` encrypts, `previous` (during a
 * rotation, SECRETS_KEY_PREVIOUS) still decrypts what `current` cannot yet.
 */
export interface SecretsKeys { current: Buffer, previous?: Buffer | undefined }

export class SecretsKeyError extends Error {}

/** The plain secret, under whichever key opens it; throws when none does. */
export function openSecret (keys: SecretsKeys, stored: string): string {
  try {
    return decryptSecret(keys.current, stored)
  } catch (err) {
    if (!keys.previous) throw err
    return decryptSecret(keys.previous, stored)
  }
}

function opens (key: Buffer, stored: string): boolean {
  try {
    decryptSecret(key, stored)
    return true
  } catch {
    // An authentication-tag failure is the expected answer of a wrong key: it means "no".
    return false
  }
}

/**
 * At startup: every stored secret must open with the configured keys, or the server refuses to
 * start with what to do, rather than answering 500 to each application login later.
 */
export async function assertKeysOpenStore (q: Queryable, keys: SecretsKeys): Promise<void> {
  const stored = await listApplicationSecrets(q)
  const closed = stored.filter((a) => !opens(keys.current, a.secretEncrypted) && !(keys.previous && opens(keys.previous, a.secretEncrypted)))
  if (closed.length === 0) return
  throw new SecretsKeyError(`SECRETS_KEY cannot decrypt ${closed.length} of ${stored.length} stored application secrets (first: application ${closed[0]!.id}). ` +
    'If they were stored before SECRETS_KEY was required, they are encrypted under JWT_SECRET: run `massprov rekey-secrets --from jwt-secret`. ' +
    'After changing SECRETS_KEY, set the old one as SECRETS_KEY_PREVIOUS and run `massprov rekey-secrets`. See docs/operations.md, "Rotating secrets".')
}

export interface RekeyResult { reencrypted: number, alreadyCurrent: number, total: number }

/**
 * Re-encrypts under `target` every secret that `source` opens, in one transaction; secrets `target`
 * already opens are left as they are, so running it twice changes nothing. A secret neither opens
 * stops the whole step.
 */
export async function rekeySecrets (db: Db, source: Buffer, target: Buffer): Promise<RekeyResult> {
  return db.transaction(async (tx) => {
    const stored = await listApplicationSecrets(tx)
    let reencrypted = 0
    let alreadyCurrent = 0
    for (const app of stored) {
      if (opens(target, app.secretEncrypted)) {
        alreadyCurrent++
        continue
      }
      if (!opens(source, app.secretEncrypted)) throw new SecretsKeyError(`the secret of application ${app.id} opens with neither key: nothing was changed`)
      await updateApplicationSecret(tx, app.id, encryptSecret(target, decryptSecret(source, app.secretEncrypted)))
      reencrypted++
    }
    return { reencrypted, alreadyCurrent, total: stored.length }
  })
}
