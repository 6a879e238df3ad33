import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findLiveUserByEmail } from '../../db/users-repository.js'
import { revokeFamiliesOfUser } from '../../db/oauth-repository.js'
import { Errors } from '../../errors.js'
import type { LoginBackoff } from '../../services/login-backoff.js'
import { verifyPassword } from '../../services/passwords.js'
import { toUserView } from '../../services/user-view.js'
import { safeText } from '../../schemas/common.js'
import { isSafeText } from '../../util/safe-text.js'

function basicCredentials (authorization: string | undefined): { login: string, password: string } | undefined {
  const m = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const sep = decoded.indexOf(':')
  if (sep <= 0) return undefined
  return { login: decoded.slice(0, sep), password: decoded.slice(sep + 1) }
}

const authentication: FastifyPluginAsyncZod<{ db: Db, requireAppAuth: boolean, loginBackoff: LoginBackoff }> = async (app, opts) => {
  // Login answers carry a token; none of these answers is for a cache, shared or not.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

  app.get('/login', {
    schema: {
      summary: 'Sign in with Basic credentials; answers a Bearer JWT',
      description: 'Authorization: Basic base64(loginEmail:password). When sent, x-rainbow-app-auth = Basic base64(appId:sha256hex(appSecret + password)) is verified (403 when wrong; required when REQUIRE_APP_AUTH=true). After LOGIN_MAX_FAILURES failed sign-ins of one login (whether or not the account exists), its next attempts answer 429 with Retry-After for LOGIN_BACKOFF seconds, doubling per further failure up to LOGIN_BACKOFF_MAX; a successful sign-in clears the count. Answered with Cache-Control: no-store.',
      tags: ['authentication'],
      security: [{ basic: [] }],
    },
  }, async (request, reply) => {
    const credentials = basicCredentials(request.headers.authorization)
    if (!credentials) throw Errors.missingCredentials()
    // Before any lookup, so a held login answers alike, and as fast, whether or not the account exists.
    const waitMs = opts.loginBackoff.admit(credentials.login)
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000)
      reply.header('retry-after', String(seconds))
      throw Errors.tooManyRequests(`Too many failed sign-ins for this login; retry in ${seconds} s`)
    }
    // No login holds a NUL, and the database would refuse to compare one.
    if (!isSafeText(credentials.login)) throw Errors.badLogin()
    const user = await findLiveUserByEmail(opts.db, credentials.login.trim())
    const passwordOk = await verifyPassword(user?.passwordHash ?? null, credentials.password)
    if (!user || !passwordOk || !user.isActive) throw Errors.badLogin()
    const appId = await app.verifyAppCredential(request, credentials.password)
    if (opts.requireAppAuth && !appId) throw Errors.appAuthRequired()
    opts.loginBackoff.succeeded(credentials.login)
    return {
      token: app.issueToken(user, appId),
      loggedInUser: toUserView(user),
      loggedInApplication: appId ? { id: appId } : {},
    }
  })

  app.get('/urls', {
    schema: {
      summary: 'Login URLs (the SDK probes this before signing in): none besides the defaults',
      tags: ['authentication'],
      security: [],
      querystring: z.object({ useBackchannelPolling: safeText(64).optional(), uid: safeText(320).optional() }),
    },
  }, async () => ({ data: [] }))

  app.get('/logout', {
    schema: { summary: 'Ends the presented token and every OAuth refresh token of its user (idempotent: answers 200 with or without one)', tags: ['authentication'] },
  }, async (request) => {
    const userId = await app.revokePresentedToken(request)
    if (userId !== null) await revokeFamiliesOfUser(opts.db, userId)
    return { status: userId !== null ? 'logged out' : 'no active session' }
  })
}

export default authentication
