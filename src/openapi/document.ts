/**
 * src/openapi: the committed OpenAPI document and Postman collection, generated from the routes'
 * zod schemas by building the app (this file) and written or checked by the scripts write.ts
 * (`npm run openapi`) and postman.ts (`npm run postman`). responses.ts, the shared error responses
 * and CSV upload description, is the one file imported from outside (plugins/openapi.ts); the rest
 * is imported only by these scripts, since document.ts imports app.ts.
 */
import { buildApp } from '../app.js'
import type { Db } from '../db/db.js'

/** A database that is never reached: building the document only registers the routes. */
const unreachable = (): never => { throw new Error('the OpenAPI document is built without a database') }
const noDb: Db = {
  kind: 'postgres',
  query: unreachable,
  exec: unreachable,
  transaction: unreachable,
  exclusive: unreachable,
  ping: unreachable,
  close: async () => {},
}

/** The OpenAPI 3.1 document as served at /openapi.json, with stable key order for the committed copy. */
export async function openApiDocument (): Promise<string> {
  const app = await buildApp({
    db: noDb,
    config: { JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: 'y'.repeat(32), JWT_TTL: 3600, JWT_ISSUER: 'massprov', REQUIRE_APP_AUTH: false },
  })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  return JSON.stringify(doc, null, 2) + '\n'
}
