import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findLiveUserByEmail } from '../../db/users-repository.js'
import { sha256Hex } from '../../services/app-credentials.js'
import type { ApplicationService } from '../../services/applications.js'
import type { LoginBackoff } from '../../services/login-backoff.js'
import { FLOW_TTL_SECONDS, grantedScope, isPkceChallenge, type OAuthService } from '../../services/oauth.js'
import { verifyPassword } from '../../services/passwords.js'
import { isForm } from './oauth-token.js'
import { consentPage, errorPage, signInPage, STYLE_ETAG, STYLESHEET, type PageContext } from './oauth-html.js'

export interface OAuthPagesOptions {
  db: Db
  applications: ApplicationService
  oauth: OAuthService
  loginBackoff: LoginBackoff
  /** The issuer identifier (RFC 9207 `iss` of every answer to the redirect URI). */
  issuer: string
  secureCookies: boolean
  /** Where this plugin is mounted, for the forms' actions and the cookie's path. */
  mountPath: string
}

const param = z.string().max(2048).optional()
const AuthorizeQuery = z.object({
  response_type: param,
  client_id: param,
  redirect_uri: param,
  state: param,
  code_challenge: param,
  code_challenge_method: param,
  scope: param,
})
const SignInForm = z.object({ flow: z.string().max(64), login_email: z.string().max(320), password: z.string().max(1024) })
const ConsentForm = z.object({ flow: z.string().max(64), decision: z.enum(['allow', 'deny']) })

// One cookie per flow, so two sign-ins in two tabs of one browser do not overwrite each other's binding.
const cookieName = (handle: string) => `mp_oauth_${sha256Hex(handle).slice(0, 16)}`

/** Pages of the authorization endpoint: sign-in, consent, and the error page for requests that cannot be redirected. */
const oauthPages: FastifyPluginAsyncZod<OAuthPagesOptions> = async (app, opts) => {
  const ctx: PageContext = { stylePath: `${opts.mountPath}/style.css`, actionBase: `${opts.mountPath}/authorize` }

  function html (reply: FastifyReply, status: number, body: string, formTarget?: string) {
    // Browsers hold the redirect that answers a form to form-action too (Chromium aborts it): the consent page names the client's origin.
    const formAction = ["'self'", ...(formTarget ? [new URL(formTarget).origin] : [])].join(' ')
    return reply.code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`)
      .send(body)
  }

  function redirectTo (reply: FastifyReply, status: 302 | 303, redirectUri: string, params: Record<string, string | null | undefined>) {
    const target = new URL(redirectUri)
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) target.searchParams.append(k, v)
    target.searchParams.append('iss', opts.issuer)
    return reply.code(status).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(target.toString(), status)
  }

  const setBinding = (reply: FastifyReply, handle: string, binding: string) => reply.setCookie(cookieName(handle), binding, {
    path: opts.mountPath, httpOnly: true, sameSite: 'lax', secure: opts.secureCookies, maxAge: FLOW_TTL_SECONDS,
  })

  // Anything unexpected on a page is a page too, never a redirect: the request may not have been checked yet.
  app.setErrorHandler(async (error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode
    if (status !== undefined && status < 500) return html(reply, 400, errorPage(ctx, 'The request is malformed.'))
    request.log.error({ err: error }, 'authorization page failed')
    return html(reply, 500, errorPage(ctx, `Something went wrong (request id ${request.id}).`))
  })

  app.addHook('preValidation', async (request, reply) => {
    if (request.method === 'POST' && !isForm(request)) return html(reply, 415, errorPage(ctx, 'The form was not sent as a form.'))
  })

  app.get('/style.css', { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'public, max-age=86400').header('etag', STYLE_ETAG)
    if (request.headers['if-none-match'] === STYLE_ETAG) return reply.code(304).send()
    return reply.type('text/css; charset=utf-8').send(STYLESHEET)
  })

  app.get('/authorize', {
    schema: {
      summary: 'OAuth 2.0 authorization endpoint (RFC 6749 §4.1): an HTML sign-in page, then a consent page',
      description: 'response_type=code, client_id, redirect_uri (exactly as registered), code_challenge with code_challenge_method=S256 (required for every client), state, scope (space-separated; default: every scope of the client). An unknown client or unregistered redirect_uri is answered with an HTML error page, never redirected to; any other error is redirected back with error, error_description, state and iss. Success redirects with code (single use, 60 s), state and iss.',
      tags: ['oauth'],
      security: [],
      querystring: AuthorizeQuery,
      produces: ['text/html'],
    },
  }, async (request, reply) => {
    const q = request.query
    const client = q.client_id ? await opts.applications.findClient(q.client_id) : undefined
    if (!client) return html(reply, 400, errorPage(ctx, 'Unknown client: client_id does not name an application registered for OAuth.'))
    if (!q.redirect_uri || !client.redirectUris.includes(q.redirect_uri)) {
      return html(reply, 400, errorPage(ctx, 'redirect_uri is missing or is not one this application registered.'))
    }
    const redirectUri = q.redirect_uri
    const fail = (error: string, description: string) => redirectTo(reply, 302, redirectUri, { error, error_description: description, state: q.state })
    if (q.response_type === undefined) return fail('invalid_request', 'response_type is required')
    if (q.response_type !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported')
    if (!q.code_challenge) return fail('invalid_request', 'code_challenge is required (PKCE with S256)')
    if (q.code_challenge_method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256')
    if (!isPkceChallenge(q.code_challenge)) return fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)')
    const scope = grantedScope(q.scope, client.oauthScopes)
    if (scope === undefined) return fail('invalid_scope', 'the scope asked is unknown or not allowed for this client')
    const { handle, binding } = await opts.oauth.startFlow({
      clientId: client.id, redirectUri, state: q.state ?? null, codeChallenge: q.code_challenge, scope,
    })
    setBinding(reply, handle, binding)
    return html(reply, 200, signInPage(ctx, { flow: handle, appName: client.name }))
  })

  const expired = 'This sign-in form has expired or was opened in another browser. Go back to the application and start again.'

  app.post('/authorize/login', { schema: { hide: true, body: SignInForm } }, async (request, reply) => {
    const { flow: handle, login_email: login, password } = request.body
    const flow = await opts.oauth.boundFlow(handle, request.cookies[cookieName(handle)])
    const client = flow ? await opts.applications.findClient(flow.clientId) : undefined
    if (!flow || !client) return html(reply, 400, errorPage(ctx, expired))
    const again = (status: number, error: string) => html(reply, status, signInPage(ctx, { flow: handle, appName: client.name, loginEmail: login, error }))
    // The same per-login backoff as GET /login, checked before any lookup so a held login says nothing of its existence.
    const waitMs = opts.loginBackoff.admit(login)
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000)
      reply.header('retry-after', String(seconds))
      return again(429, `Too many failed sign-ins for this login; try again in ${seconds} s.`)
    }
    const user = await findLiveUserByEmail(opts.db, login.trim())
    const passwordOk = await verifyPassword(user?.passwordHash ?? null, password)
    if (!user || !passwordOk || !user.isActive) return again(401, 'Invalid login or password.')
    opts.loginBackoff.succeeded(login)
    await opts.oauth.signedIn(handle, user.id)
    return html(reply, 200, consentPage(ctx, { flow: handle, appName: client.name, loginEmail: user.loginEmail, scope: flow.scope }), flow.redirectUri)
  })

  app.post('/authorize/consent', { schema: { hide: true, body: ConsentForm } }, async (request, reply) => {
    const { flow: handle, decision } = request.body
    const flow = await opts.oauth.boundFlow(handle, request.cookies[cookieName(handle)])
    if (!flow?.userId) return html(reply, 400, errorPage(ctx, expired))
    const code = await opts.oauth.finishFlow(handle, flow, decision === 'allow')
    reply.clearCookie(cookieName(handle), { path: opts.mountPath })
    if (decision === 'deny') return redirectTo(reply, 303, flow.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: flow.state })
    if (!code) return html(reply, 400, errorPage(ctx, expired))
    return redirectTo(reply, 303, flow.redirectUri, { code, state: flow.state })
  })
}

export default oauthPages
