import { createHash } from 'node:crypto'
import pino from 'pino'
import { buildApp } from '../../../src/app.js'
import type { Db } from '../../../src/db/db.js'
import { insertUser } from '../../../src/db/users-repository.js'
import { runImport } from '../../../src/jobs/import-job.js'
import { createInProcessQueue } from '../../../src/jobs/in-process-queue.js'
import type { ImportQueue } from '../../../src/jobs/queue.js'
import { newId } from '../../../src/util/ids.js'
import { TEST_ISSUER, TEST_JWT_SECRET, TEST_SECRETS_KEY, type TestApp } from '../../helpers/app.js'

export const MP = '/api/rainbow/massprovisioning/v1.0'

export interface ImportApp { app: TestApp, queue: ImportQueue | undefined }

/**
 * The HTTP application with the embedded mode's queue running the real import job in-process
 * (`queue.drained()` waits for every accepted import), or with no queue at all (`queue: false`):
 * imports are then stored and stay Pending.
 */
export async function buildImportApp (db: Db, opts: { chunkSize?: number, queue?: boolean, maxDeletePercent?: number } = {}): Promise<ImportApp> {
  const logger = pino({ level: 'silent' })
  const queue = opts.queue === false
    ? undefined
    : createInProcessQueue((job) => runImport({ db, logger, xmppDomain: 'localhost', chunkSize: opts.chunkSize ?? 1000 }, job.reqId), { concurrency: 2, logger })
  const app = await buildApp({
    db,
    ...(queue ? { queue } : {}),
    config: {
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_KEY: TEST_SECRETS_KEY,
      JWT_TTL: 3600,
      JWT_ISSUER: TEST_ISSUER,
      REQUIRE_APP_AUTH: false,
      ...(opts.maxDeletePercent !== undefined ? { MAX_DELETE_PERCENT: opts.maxDeletePercent } : {}),
    },
  })
  await app.ready()
  return { app, queue }
}

/** D2: the reqId the server must give a body. */
export const reqIdOf = (companyId: string, operation: 'import' | 'synchronize', body: string | Buffer) =>
  createHash('sha256').update(`${companyId}\n${operation}\n`).update(body).digest('hex')

/** A live user of a company, without password, with optional fields. */
export async function addUser (db: Db, companyId: string, loginEmail: string, fields: { firstName?: string, jobTitle?: string } = {}): Promise<string> {
  const id = newId()
  await insertUser(db, { id, companyId, loginEmail, passwordHash: null, roles: ['user'], adminType: null, jidIm: `${id}@localhost`, firstName: fields.firstName ?? null })
  if (fields.jobTitle !== undefined) await db.query('UPDATE users SET job_title = $2 WHERE id = $1', [id, fields.jobTitle])
  return id
}

/** Gives a number (found by PBX and short number) to a user, as the admin tooling would. */
export async function holdNumber (db: Db, userId: string | null, pbxId: string, shortNumber: string): Promise<void> {
  const rows = await db.query(
    `UPDATE phone_numbers n SET user_id = $1, attached_at = CASE WHEN $1::char(24) IS NULL THEN NULL ELSE now() END
       FROM pbx_systems s WHERE n.system_id = s.id AND s.pbx_id = $2 AND n.short_number = $3 RETURNING n.id`, [userId, pbxId, shortNumber])
  if (rows.length !== 1) throw new Error(`no number ${pbxId}/${shortNumber}`)
}

export interface NumberState { pbxId: string, shortNumber: string, userId: string | null, internalNumber: string | null, number: string | null }

export async function numberOf (db: Db, pbxId: string, shortNumber: string): Promise<NumberState> {
  const rows = await db.query<NumberState>(
    `SELECT s.pbx_id AS "pbxId", n.short_number AS "shortNumber", n.user_id AS "userId", n.internal_number AS "internalNumber", n.number
       FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id WHERE s.pbx_id = $1 AND n.short_number = $2`, [pbxId, shortNumber])
  if (rows.length !== 1) throw new Error(`no number ${pbxId}/${shortNumber}`)
  return rows[0]!
}
