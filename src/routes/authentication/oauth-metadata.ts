import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SCOPES } from '../../services/oauth.js'

const Metadata = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  revocation_endpoint: z.string(),
  response_types_supported: z.array(z.string()),
  grant_types_supported: z.array(z.string()),
  code_challenge_methods_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  revocation_endpoint_auth_methods_supported: z.array(z.string()),
  scopes_supported: z.array(z.string()),
  authorization_response_iss_parameter_supported: z.boolean(),
})

/** RFC 8414 authorization server metadata, so client libraries configure themselves from the issuer alone. */
const oauthMetadata: FastifyPluginAsyncZod<{ issuer: string, oauthPath: string }> = async (app, opts) => {
  const base = `${opts.issuer}${opts.oauthPath}`
  const document = {
    issuer: opts.issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    revocation_endpoint: `${base}/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: Object.keys(SCOPES),
    authorization_response_iss_parameter_supported: true,
  }
  app.get('/.well-known/oauth-authorization-server', {
    schema: { summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', tags: ['oauth'], security: [], response: { 200: Metadata } },
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=3600')
    return document
  })
}

export default oauthMetadata
