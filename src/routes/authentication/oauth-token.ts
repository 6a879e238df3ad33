import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import type { TokenClaims } from '../../plugins/auth.js'
import { revokeToken } from '../../db/tokens-repository.js'
import type { ApplicationRow } from '../../db/applications-repository.js'
import type { ApplicationService } from '../../services/applications.js'
import { OAuthError, type OAuthService } from '../../services/oauth.js'

export interface OAuthTokenOptions {
  db: Db
  applications: ApplicationService
  oauth: OAuthService
}

const field = z.string().max(4096).optional()
const TokenForm = z.object({
  grant_type: field,
  code: field,
  redirect_uri: field,
  code_verifier: field,
  refresh_token: field,
  scope: field,
  client_id: field,
  client_secret: field,
})
const RevokeForm = z.object({ token: field, token_type_hint: field, client_id: field, client_secret: field })

const OAuthErrorBody = z.object({ error: z.string(), error_description: z.string().optional() })
const TokenBody = z.object({
  access_token: z.string().describe('A JWT like /login\'s, with client_id, scope and sid (the token family) added'),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string().describe('Opaque; rotated on every use, and a rotated one presented again revokes its whole family'),
  scope: z.string(),
})

export function isForm (request: FastifyRequest): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers['content-type'] ?? '')
}

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i

/** RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded before being joined and base64-encoded. */
function basicClient (request: FastifyRequest): { id: string, secret: string } | undefined {
  const m = BASIC.exec(request.headers.authorization ?? '')
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const sep = decoded.indexOf(':')
  if (sep < 0) throw new OAuthError('invalid_request', 'malformed Basic credentials')
  const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
  try {
    return { id: formDecode(decoded.slice(0, sep)), secret: formDecode(decoded.slice(sep + 1)) }
  } catch {
    throw new OAuthError('invalid_request', 'malformed Basic credentials')
  }
}

/** Token and revocation endpoints: RFC 6749 §5 and RFC 7009, answering RFC 6749's JSON error shape rather than the Rainbow envelope. */
const oauthToken: FastifyPluginAsyncZod<OAuthTokenOptions> = async (app, opts) => {
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  })
  // RFC 6749 §3.2 and RFC 7009 §2.1 name one body type; the root's JSON parser would otherwise accept another.
  app.addHook('preValidation', async (request) => {
    if (!isForm(request)) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded')
  })

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.statusCode === 401) reply.header('www-authenticate', 'Basic realm="massprov", charset="UTF-8"')
      return reply.code(error.statusCode).send({ error: error.code, error_description: error.description })
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status === 429) return reply.code(429).send({ error: 'temporarily_unavailable', error_description: 'too many requests' })
    if (status < 500) return reply.code(400).send({ error: 'invalid_request', error_description: (error as Error).message })
    request.log.error({ err: error }, 'token endpoint failed')
    return reply.code(500).send({ error: 'server_error', error_description: `request id ${request.id}` })
  })

  /** client_secret_basic, client_secret_post, or none (public clients, which prove themselves by PKCE). */
  async function authenticateClient (request: FastifyRequest, body: { client_id?: string | undefined, client_secret?: string | undefined }): Promise<ApplicationRow> {
    const basic = basicClient(request)
    if (basic && body.client_secret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two')
    if (basic && body.client_id !== undefined && body.client_id !== basic.id) throw new OAuthError('invalid_request', 'client_id differs from the Basic credentials\'')
    const clientId = basic?.id ?? body.client_id
    if (!clientId) throw new OAuthError('invalid_client', 'client authentication is required', 401)
    const client = await opts.applications.findClient(clientId)
    if (!client) throw new OAuthError('invalid_client', 'unknown client', 401)
    const secret = basic?.secret ?? body.client_secret
    if (client.clientSecretHash !== null) {
      if (secret === undefined || !opts.applications.verifyClientSecret(client, secret)) throw new OAuthError('invalid_client', 'client authentication failed', 401)
    } else if (secret !== undefined && secret !== '') {
      throw new OAuthError('invalid_client', 'this is a public client: it has no client secret', 401)
    }
    return client
  }

  app.post('/token', {
    schema: {
      summary: 'OAuth 2.0 token endpoint: authorization_code (with PKCE) and refresh_token grants',
      description: 'application/x-www-form-urlencoded. Confidential clients authenticate with client_secret_basic or client_secret_post; public clients send client_id only. Errors use RFC 6749 §5.2\'s shape {error, error_description}: invalid_request, invalid_client (401, WWW-Authenticate), invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope. Answered with Cache-Control: no-store.',
      tags: ['oauth'],
      security: [{ basic: [] }, {}],
      consumes: ['application/x-www-form-urlencoded'],
      body: TokenForm,
      response: { 200: TokenBody, 400: OAuthErrorBody, 401: OAuthErrorBody },
    },
  }, async (request) => {
    const body = request.body
    const client = await authenticateClient(request, body)
    switch (body.grant_type) {
      case 'authorization_code': {
        if (!body.code || !body.redirect_uri) throw new OAuthError('invalid_request', 'code and redirect_uri are required')
        if (!body.code_verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)')
        return opts.oauth.redeemCode(client.id, { code: body.code, redirectUri: body.redirect_uri, codeVerifier: body.code_verifier })
      }
      case 'refresh_token': {
        if (!body.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required')
        return opts.oauth.refresh(client.id, { refreshToken: body.refresh_token, scope: body.scope })
      }
      case undefined: throw new OAuthError('invalid_request', 'grant_type is required')
      case 'client_credentials':
      case 'password':
        throw new OAuthError('unauthorized_client', `clients of this server may not use the ${body.grant_type} grant`)
      default: throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
    }
  })

  app.post('/revoke', {
    schema: {
      summary: 'OAuth 2.0 token revocation (RFC 7009)',
      description: 'A refresh token revokes its whole family (and the access tokens issued from it); an access token of this client is revoked by its jti. Answers 200 also for an unknown or already revoked token.',
      tags: ['oauth'],
      security: [{ basic: [] }, {}],
      consumes: ['application/x-www-form-urlencoded'],
      body: RevokeForm,
      response: { 200: z.object({}), 400: OAuthErrorBody, 401: OAuthErrorBody },
    },
  }, async (request, reply) => {
    const client = await authenticateClient(request, request.body)
    const token = request.body.token
    if (!token) throw new OAuthError('invalid_request', 'token is required')
    // The hint only orders the lookups (RFC 7009 §2.1); both kinds are tried.
    if (!(await opts.oauth.revokeRefreshToken(client.id, token))) {
      let claims: TokenClaims | undefined
      try {
        claims = app.jwt.verify<TokenClaims>(token)
      } catch {
        // RFC 7009 §2.2: a token the server cannot verify is answered as any unknown token (200, nothing to revoke).
        claims = undefined
      }
      if (claims?.client_id === client.id) await revokeToken(opts.db, claims.jti, new Date(claims.exp * 1000))
    }
    return reply.code(200).send({})
  })
}

export default oauthToken
