import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findLiveUserByEmail } from '../../db/users-repository.js'
import { Errors } from '../../errors.js'
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

const authentication: FastifyPluginAsyncZod<{ db: Db, requireAppAuth: boolean }> = async (app, opts) => {
  app.get('/login', {
    schema: {
      summary: 'Sign in with Basic credentials; answers a Bearer JWT',
      description: 'Authorization: Basic base64(loginEmail:password). When sent, x-rainbow-app-auth = Basic base64(appId:sha256hex(appSecret + password)) is verified (403 when wrong; required when REQUIRE_APP_AUTH=true).',
      tags: ['authentication'],
      security: [{ basic: [] }],
    },
  }, async (request) => {
    const credentials = basicCredentials(request.headers.authorization)
    if (!credentials) throw Errors.missingCredentials()
    // No login holds a NUL, and the database would refuse to compare one.
    if (!isSafeText(credentials.login)) throw Errors.badLogin()
    const user = await findLiveUserByEmail(opts.db, credentials.login.trim())
    const passwordOk = await verifyPassword(user?.passwordHash ?? null, credentials.password)
    if (!user || !passwordOk || !user.isActive) throw Errors.badLogin()
    const appId = await app.verifyAppCredential(request, credentials.password)
    if (opts.requireAppAuth && !appId) throw Errors.appAuthRequired()
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
    schema: { summary: 'Ends the presented token (idempotent: answers 200 with or without one)', tags: ['authentication'] },
  }, async (request) => {
    const revoked = await app.revokePresentedToken(request)
    return { status: revoked ? 'logged out' : 'no active session' }
  })
}

export default authentication
