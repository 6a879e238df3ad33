/**
 * src/routes: the HTTP API, one encapsulated plugin per area (authentication/, massprovisioning/,
 * admin/, health.ts), registered here with their prefixes. Handlers map input to services,
 * provisioning, csv, jobs and notifications and back; request and response shapes come from
 * src/schemas. Only app.ts imports this file, and routes never import an entry
 * (dependency-cruiser rule no-entry-from-routes-or-plugins).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { LineThreads } from '../csv/parse-options.js'
import type { Db } from '../db/db.js'
import health, { type ReadinessCheck } from './health.js'
import authentication from './authentication/index.js'
import oauth from './authentication/oauth.js'
import oauthMetadata from './authentication/oauth-metadata.js'
import type { ApplicationService } from '../services/applications.js'
import about from './massprovisioning/about.js'
import adminUsers from './admin/users.js'
import adminPbxs from './admin/pbxs.js'
import adminCloudPbx from './admin/cloudpbx.js'
import adminCompanies from './admin/companies.js'
import checks from './massprovisioning/checks.js'
import commandReports, { commandRefusals } from './massprovisioning/command-reports.js'
import template from './massprovisioning/template.js'
import imports from './massprovisioning/imports.js'
import reverts from './massprovisioning/reverts.js'
import enduser from './enduser/index.js'
import userList from './massprovisioning/user-list.js'
import consolePlugin from './console.js'
import type { ImportQueue } from '../jobs/queue.js'
import type { LoginBackoff } from '../services/login-backoff.js'

export interface RoutesOptions {
  db: Db
  /** Where large checked files are parsed and validated (none: on the event loop). */
  lineThreads: LineThreads | undefined
  version: string
  requireAppAuth: boolean
  checks: ReadinessCheck[]
  queue: ImportQueue | undefined
  /** Deletion safeguard (MAX_DELETE_PERCENT): above this share of a company's users, an import's deletions need confirmDeletes. */
  maxDeletePercent: number
  loginBackoff: LoginBackoff
  applications: ApplicationService
  /** OAuth 2.0 (D17): the issuer identifier (PUBLIC_URL) and token lifetimes. */
  oauth: { issuer: string, accessTokenTtlSeconds: number, refreshTokenTtlSeconds: number }
  /** The web console: where its build is, and the redirect URIs registered for it at start. */
  console: { root?: string, redirectUris: () => string[] }
}

export const MASSPRO_PREFIX = '/api/rainbow/massprovisioning/v1.0'
export const AUTH_PREFIX = '/api/rainbow/authentication/v1.0'
export const OAUTH_PATH = `${AUTH_PREFIX}/oauth`
export const ADMIN_PREFIX = '/api/rainbow/admin/v1.0'
export const ENDUSER_PREFIX = '/api/rainbow/enduser/v1.0'

const routes: FastifyPluginAsync<RoutesOptions> = async (app, opts) => {
  await app.register(health, { checks: opts.checks })
  await app.register(authentication, { prefix: AUTH_PREFIX, db: opts.db, requireAppAuth: opts.requireAppAuth, loginBackoff: opts.loginBackoff })
  await app.register(oauth, {
    prefix: OAUTH_PATH, mountPath: OAUTH_PATH, db: opts.db, applications: opts.applications, loginBackoff: opts.loginBackoff, ...opts.oauth,
  })
  await app.register(oauthMetadata, { issuer: opts.oauth.issuer, oauthPath: OAUTH_PATH })
  await app.register(about, { prefix: MASSPRO_PREFIX, version: opts.version })
  // Public files: the page signs in through OAuth and calls the API with the token it gets.
  await app.register(consolePlugin, opts.console)

  // Any signed-in user: the SDK's reads around sign-in (contract §8).
  await app.register(async function userScope (scope) {
    scope.addHook('onRequest', scope.authenticate)
    await scope.register(enduser, { prefix: ENDUSER_PREFIX, db: opts.db })
  })

  // Everything below needs a Bearer JWT of an administrator (D12).
  await app.register(async function adminScope (scope) {
    scope.addHook('onRequest', scope.authenticate)
    scope.addHook('onRequest', scope.requireAdmin)
    await scope.register(adminUsers, { prefix: ADMIN_PREFIX, db: opts.db })
    await scope.register(adminPbxs, { prefix: ADMIN_PREFIX, db: opts.db })
    await scope.register(adminCloudPbx, { prefix: ADMIN_PREFIX, db: opts.db })
    await scope.register(adminCompanies, { prefix: ADMIN_PREFIX, db: opts.db })
    await scope.register(commandRefusals, { db: opts.db, routePrefix: MASSPRO_PREFIX })
    await scope.register(checks, { prefix: MASSPRO_PREFIX, db: opts.db, lineThreads: opts.lineThreads, maxDeletePercent: opts.maxDeletePercent })
    await scope.register(commandReports, { prefix: MASSPRO_PREFIX, db: opts.db })
    await scope.register(template, { prefix: MASSPRO_PREFIX })
    await scope.register(imports, { prefix: MASSPRO_PREFIX, db: opts.db, queue: opts.queue, maxDeletePercent: opts.maxDeletePercent })
    await scope.register(reverts, { prefix: MASSPRO_PREFIX, db: opts.db, queue: opts.queue })
    await scope.register(userList, { prefix: MASSPRO_PREFIX, db: opts.db })
  })
}

export default routes
