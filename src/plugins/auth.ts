import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../db/db.js'
import { findLiveUserById, type UserRow } from '../db/users-repository.js'
import { isTokenRevoked, revokeToken } from '../db/tokens-repository.js'
import { randomUUID } from 'node:crypto'
import { Errors } from '../errors.js'
import type { ApplicationService } from '../services/applications.js'
import { createCompanyScope, type CompanyScope } from '../services/company-scope.js'

export interface AuthOptions {
  db: Db
  applications: ApplicationService
  jwtSecret: string
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
}

export interface AuthContext { user: UserRow, appId: string | null }

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: a valid Bearer JWT of a live user, and the application credential rules. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** onRequest hook, after authenticate: superadmin, organization_admin or company_admin only (D12). */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** Checks the application credential headers of a request; returns the application id, if any. */
    verifyAppCredential: (request: FastifyRequest, proof?: string) => Promise<string | null>
    issueToken: (user: UserRow, appId: string | null) => string
    /** Ends the token presented by the request, if it is a valid one (logout). */
    revokePresentedToken: (request: FastifyRequest) => Promise<boolean>
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

export default fp<AuthOptions>(async (app, opts) => {
  await app.register(fastifyJwt, {
    secret: opts.jwtSecret,
    sign: { algorithm: 'HS256', iss: opts.issuer, expiresIn: `${opts.jwtTtlSeconds}s` },
    // fast-jwt accepts tokens without exp, and other HMAC algorithms, unless told (field notes).
    verify: { algorithms: ['HS256'], allowedIss: opts.issuer, requiredClaims: ['exp', 'sub', 'iss'] },
  })

  app.decorateRequest('auth', null)
  app.decorate('companyScope', createCompanyScope(opts.db))

  app.decorate('issueToken', (user: UserRow, appId: string | null) => {
    const claims: Omit<TokenClaims, 'iss' | 'exp' | 'iat'> = {
      sub: user.id,
      jti: randomUUID(),
      user: { id: user.id, loginEmail: user.loginEmail, companyId: user.companyId },
      ...(appId ? { app: { id: appId } } : {}),
    }
    return app.jwt.sign(claims)
  })

  app.decorate('verifyAppCredential', async (request: FastifyRequest, proof?: string) => {
    const apiKey = header(request, 'apikey')
    const appAuth = header(request, 'x-rainbow-app-auth')
    let appId: string | null = null
    if (apiKey !== undefined) appId = (await opts.applications.verifyApiToken(apiKey)).id
    if (appAuth !== undefined) {
      const challenge = header(request, 'x-rainbow-challenge')
      const proofValue = proof ?? challenge
      const app = /^Basic\s/i.test(appAuth)
        ? proofValue !== undefined
          ? await opts.applications.verifyLogin(appAuth, proofValue)
          : await opts.applications.verifyKnownApp(appAuth)
        : await opts.applications.verifyApiToken(appAuth)
      if (appId && appId !== app.id) throw Errors.badAppAuth('APIKey and x-rainbow-app-auth name different applications')
      appId = app.id
    }
    return appId
  })

  function verifiedClaims (request: FastifyRequest): TokenClaims {
    const authorization = header(request, 'authorization')
    const token = authorization ? BEARER.exec(authorization)?.[1] : undefined
    if (!token || token === 'null' || token === 'undefined') throw Errors.missingCredentials()
    let claims: TokenClaims
    try {
      claims = app.jwt.verify<TokenClaims>(token)
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
    } catch {
      return false
    }
    await revokeToken(opts.db, claims.jti, new Date(claims.exp * 1000))
    return true
  })

  app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    const claims = verifiedClaims(request)
    if (await isTokenRevoked(opts.db, claims.jti)) throw Errors.invalidToken('the token was ended by a logout')
    const user = await findLiveUserById(opts.db, claims.sub)
    if (!user?.isActive) throw Errors.invalidToken('the token\'s user no longer exists or is inactive')
    const headerApp = await app.verifyAppCredential(request)
    const appId = headerApp ?? claims.app?.id ?? null
    if (opts.requireAppAuth && !appId) throw Errors.appAuthRequired()
    request.auth = { user, appId }
    // Every later log line of this request says who and for which company.
    request.log = reply.log = request.log.child({ userId: user.id, companyId: user.companyId })
  })

  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    if (!request.auth) throw Errors.missingCredentials()
    if (!app.companyScope.isAdmin(request.auth.user)) throw Errors.forbiddenRole()
  })
}, { name: 'auth' })
