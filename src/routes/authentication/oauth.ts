import type { FastifyPluginAsync } from 'fastify'
import formbody from '@fastify/formbody'
import cookie from '@fastify/cookie'
import type { Db } from '../../db/db.js'
import type { ApplicationService } from '../../services/applications.js'
import type { LoginBackoff } from '../../services/login-backoff.js'
import { createOAuthService } from '../../services/oauth.js'
import oauthPages from './oauth-pages.js'
import oauthToken from './oauth-token.js'

export interface OAuthOptions {
  db: Db
  applications: ApplicationService
  loginBackoff: LoginBackoff
  /** The issuer identifier: the base URL clients reach this server at (PUBLIC_URL). */
  issuer: string
  mountPath: string
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
}

/**
 * OAuth 2.0 authorization-code grant (D17). Form bodies and cookies are parsed only in here: the CSV
 * routes keep their own parsers and never read a cookie.
 */
const oauth: FastifyPluginAsync<OAuthOptions> = async (app, opts) => {
  await app.register(formbody, { bodyLimit: 16 * 1024 })
  await app.register(cookie)
  const service = createOAuthService({
    db: opts.db,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: opts.refreshTokenTtlSeconds,
    issueAccessToken: (user, grant) => app.issueToken(user, grant.clientId, grant),
  })
  await app.register(oauthPages, {
    db: opts.db,
    applications: opts.applications,
    oauth: service,
    loginBackoff: opts.loginBackoff,
    issuer: opts.issuer,
    secureCookies: opts.issuer.startsWith('https:'),
    mountPath: opts.mountPath,
  })
  await app.register(oauthToken, { db: opts.db, applications: opts.applications, oauth: service })
}

export default oauth
