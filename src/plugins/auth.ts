/**
 * src/plugins: fastify-plugins that decorate or guard every route: authentication and roles (this
 * file), operator access, limits, metrics, OpenAPI, response headers and the error handler. They
 * import db, services, errors and openapi/responses.ts; only app.ts registers them, and they never
 * import an entry (dependency-cruiser rule no-entry-from-routes-or-plugins).
 */
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../db/db.js'
import { findLiveUserById, type UserRow } from '../db/users-repository.js'
import { isTokenRevoked, revokeToken } from '../db/tokens-repository.js'
import { isFamilyRevoked } from '../db/oauth-repository.js'
import { randomUUID } from 'node:crypto'
import { Errors, RainbowError } from '../errors.js'
import { createApiKeyService } from '../services/api-keys.js'
import type { ApplicationService } from '../services/applications.js'
import { createCompanyScope, type CompanyScope } from '../services/company-scope.js'

export interface AuthOptions {
  db: Db
  applications: ApplicationService
  jwtSecret: string
  /** The key before the last rotation: tokens it signed still verify until they expire; none is signed with it. */
  jwtSecretPrevious?: string | undefined
  jwtTtlSeconds: number
  issuer: string
  requireAppAuth: boolean
}

export interface TokenClaims {
  sub: string
  iss: string
  exp: number
  iat: number
  jti: string
  user: { id: string, loginEmail: string, companyId: string }
  app?: { id: string }
  /** OAuth access tokens (D17): the client, the scope granted, and the token family (its session). */
  client_id?: string
  scope?: string
  sid?: string
}

export interface OAuthGrant { clientId: string, scope: string, familyId: string }

const WRITE_SCOPE = 'massprovisioning'

export interface AuthContext { user: UserRow, appId: string | null }

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: a valid Bearer JWT of a live user, and the application credential rules. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** onRequest hook, after authenticate: superadmin, organization_admin or company_admin only (D12). */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /**
     * The application the credential headers prove (403 when one is wrong), or null without any.
     * `proof` is what a Basic x-rainbow-app-auth digest covers: the password at login, the challenge on a Bearer call.
     */
    verifyAppCredential: (request: FastifyRequest, proof: string | undefined) => Promise<string | null>
    issueToken: (user: UserRow, appId: string | null, grant?: OAuthGrant) => string
    /** Ends the token presented by the request, if it is a valid one (logout); answers its user's id. */
    revokePresentedToken: (request: FastifyRequest) => Promise<string | null>
    companyScope: CompanyScope
  }
  interface FastifyRequest {
    auth: AuthContext | null
  }
}

const BEARER = /^Bearer\s+(\S+)$/i

function header (request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The SDK sends 22 random characters; an empty or oversized one is no challenge. */
function bearerChallenge (request: FastifyRequest): string | undefined {
  const challenge = header(request, 'x-rainbow-challenge')
  return challenge !== undefined && challenge.length >= 1 && challenge.length <= 256 ? challenge : undefined
}

export default fp<AuthOptions>(async (app, opts) => {
  await app.register(fastifyJwt, {
    secret: opts.jwtSecret,
    sign: { algorithm: 'HS256', iss: opts.issuer, expiresIn: `${opts.jwtTtlSeconds}s` },
    // fast-jwt accepts tokens without exp, and other HMAC algorithms, unless told (field notes).
    verify: { algorithms: ['HS256'], allowedIss: opts.issuer, requiredClaims: ['exp', 'sub', 'iss'] },
  })
  if (opts.jwtSecretPrevious) {
    await app.register(fastifyJwt, {
      secret: opts.jwtSecretPrevious,
      namespace: 'previous',
      verify: { algorithms: ['HS256'], allowedIss: opts.issuer, requiredClaims: ['exp', 'sub', 'iss'] },
    })
  }

  app.decorateRequest('auth', null)
  app.decorate('companyScope', createCompanyScope(opts.db))

  app.decorate('issueToken', (user: UserRow, appId: string | null, grant?: OAuthGrant) => {
    const claims: Omit<TokenClaims, 'iss' | 'exp' | 'iat'> = {
      sub: user.id,
      jti: randomUUID(),
      user: { id: user.id, loginEmail: user.loginEmail, companyId: user.companyId },
      ...(appId ? { app: { id: appId } } : {}),
      ...(grant ? { client_id: grant.clientId, scope: grant.scope, sid: grant.familyId } : {}),
    }
    return app.jwt.sign(claims)
  })

  /*
   * An API token (APIKey, or x-rainbow-app-auth without "Basic") proves its application by possession.
   * A Basic x-rainbow-app-auth is a digest over a proof (the password at login, x-rainbow-challenge on a
   * Bearer call): without the proof it is only a claimed appId, so it is refused rather than ignored.
   */
  app.decorate('verifyAppCredential', async (request: FastifyRequest, proof: string | undefined) => {
    const apiKey = header(request, 'apikey')
    const appAuth = header(request, 'x-rainbow-app-auth')
    let appId: string | null = null
    if (apiKey !== undefined) appId = (await opts.applications.verifyApiToken(apiKey)).id
    if (appAuth !== undefined) {
      let proven: { id: string }
      if (/^Basic\s/i.test(appAuth)) {
        if (proof === undefined) throw Errors.badAppAuth('x-rainbow-app-auth needs an x-rainbow-challenge (1 to 256 characters) on a Bearer call')
        proven = await opts.applications.verifyLogin(appAuth, proof)
      } else {
        proven = await opts.applications.verifyApiToken(appAuth)
      }
      if (appId && appId !== proven.id) throw Errors.badAppAuth('APIKey and x-rainbow-app-auth name different applications')
      appId = proven.id
    }
    return appId
  })

  const previous = opts.jwtSecretPrevious ? (app.jwt as unknown as { previous: { verify: <T>(token: string) => T } }).previous : undefined
  /** The current key first; a token whose signature it refuses may be one the previous key signed. */
  function verifyEitherKey (token: string): TokenClaims {
    try {
      return app.jwt.verify<TokenClaims>(token)
    } catch (err) {
      if (!previous || (err as { code?: string }).code !== 'FAST_JWT_INVALID_SIGNATURE') throw err
      return previous.verify<TokenClaims>(token)
    }
  }

  function verifiedClaims (request: FastifyRequest): TokenClaims {
    const authorization = header(request, 'authorization')
    const token = authorization ? BEARER.exec(authorization)?.[1] : undefined
    if (!token || token === 'null' || token === 'undefined') throw Errors.missingCredentials()
    let claims: TokenClaims
    try {
      claims = verifyEitherKey(token)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'FAST_JWT_EXPIRED') throw Errors.tokenExpired()
      throw Errors.invalidToken()
    }
    if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string') throw Errors.invalidToken()
    return claims
  }

  app.decorate('revokePresentedToken', async (request: FastifyRequest) => {
    let claims: TokenClaims
    try {
      claims = verifiedClaims(request)
    } catch (err) {
      // A logout without a valid token has nothing to end (it still answers 200); anything else is a fault.
      if (!(err instanceof RainbowError)) throw err
      return null
    }
    await revokeToken(opts.db, claims.jti, new Date(claims.exp * 1000))
    return claims.sub
  })

  const apiKeys = createApiKeyService(opts.db)

  function signedIn (request: FastifyRequest, reply: FastifyReply, user: UserRow, appId: string | null): void {
    request.auth = { user, appId }
    // Every later log line of this request says who and for which company.
    request.log = reply.log = request.log.child({ userId: user.id, companyId: user.companyId })
  }

  /**
   * The SDK's API-key mode (contract §8): no Authorization, a user's key in x-rainbow-api-key, and its
   * application proven by a Basic x-rainbow-app-auth digest over x-rainbow-challenge. An unknown or
   * revoked key is a 401; a missing or wrong application proof a 403.
   */
  async function authenticateApiKey (request: FastifyRequest, reply: FastifyReply, apiKey: string): Promise<void> {
    const userId = apiKey.length >= 1 && apiKey.length <= 256 ? await apiKeys.userOf(apiKey) : undefined
    if (userId === undefined) throw Errors.invalidToken('unknown or revoked API key')
    const user = await findLiveUserById(opts.db, userId)
    if (!user?.isActive) throw Errors.invalidToken('the API key\'s user no longer exists or is inactive')
    const appId = await app.verifyAppCredential(request, bearerChallenge(request))
    if (!appId) throw Errors.appAuthRequired()
    signedIn(request, reply, user, appId)
  }

  /** A Bearer token is there (the SDK sends "Bearer null" where it has none). */
  function hasBearer (request: FastifyRequest): boolean {
    const token = BEARER.exec(header(request, 'authorization') ?? '')?.[1]
    return token !== undefined && token !== 'null' && token !== 'undefined'
  }

  app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    const apiKey = header(request, 'x-rainbow-api-key')
    if (apiKey !== undefined && !hasBearer(request)) return authenticateApiKey(request, reply, apiKey)
    const claims = verifiedClaims(request)
    if (await isTokenRevoked(opts.db, claims.jti)) throw Errors.invalidToken('the token was ended by a logout')
    if (claims.sid !== undefined && await isFamilyRevoked(opts.db, claims.sid)) throw Errors.invalidToken('the token\'s OAuth grant was revoked')
    if (claims.scope !== undefined && !claims.scope.split(' ').includes(WRITE_SCOPE) && request.method !== 'GET' && request.method !== 'HEAD') {
      throw Errors.insufficientScope(WRITE_SCOPE)
    }
    const user = await findLiveUserById(opts.db, claims.sub)
    if (!user?.isActive) throw Errors.invalidToken('the token\'s user no longer exists or is inactive')
    // The call's application is the token's; headers may only prove that same one, or one for a token issued without.
    const tokenApp = claims.app?.id ?? null
    const headerApp = await app.verifyAppCredential(request, bearerChallenge(request))
    if (tokenApp && headerApp && headerApp !== tokenApp) throw Errors.badAppAuth('The application credential names another application than the token\'s')
    const appId = tokenApp ?? headerApp
    if (opts.requireAppAuth && !appId) throw Errors.appAuthRequired()
    signedIn(request, reply, user, appId)
  })

  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    if (!request.auth) throw Errors.missingCredentials()
    if (!app.companyScope.isAdmin(request.auth.user)) throw Errors.forbiddenRole()
  })
}, { name: 'auth' })
