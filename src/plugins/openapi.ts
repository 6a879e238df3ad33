import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { VERSION } from '../version.js'
import { CSV_UPLOAD, errorResponses, isCsvUpload, lineCodeTable } from '../openapi/responses.js'

const DESCRIPTION = [
  'A self-hosted, wire-compatible implementation of the Rainbow Mass Provisioning portal API.',
  'Every error is the Rainbow envelope `{status, errorCode, errorMsg, errorDetails, errorDetailsCode}` (the OAuth token and revocation endpoints answer RFC 6749\'s `{error, error_description}`);',
  'CSV line errors carry `lineNumber` (physical line, comments and blank lines counted) and the column.',
  'Routes under /api/rainbow/massprovisioning and /api/rainbow/admin need `Authorization: Bearer <JWT>`',
  'of an administrator, obtained from GET /api/rainbow/authentication/v1.0/login with HTTP Basic credentials.',
].join(' ')

// The UI loads only its own files (no inline script or style in its page) and fetches the document
// from this server; validatorUrl null stops it from asking validator.swagger.io for a badge.
const DOCS_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
}

/**
 * The OpenAPI document is generated from the same zod schemas that validate the requests, so it
 * cannot drift from the code; `npm run openapi:check` keeps the committed copy in step.
 */
export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'massprov — Rainbow Mass Provisioning API', version: VERSION, description: `${DESCRIPTION}\n\nPer-line codes of check answers and import reports:\n\n${lineCodeTable()}` },
      servers: [{ url: '/' }],
      // Either a Bearer JWT, or the SDK's API-key mode: a user's key with the application's digest over the challenge.
      security: [{ bearer: [] }, { userApiKey: [], challenge: [], appAuth: [] }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          basic: { type: 'http', scheme: 'basic' },
          userApiKey: { type: 'apiKey', in: 'header', name: 'x-rainbow-api-key', description: 'A user\'s API key (massprov create-api-key --user ID): the call acts as that user. 401 when unknown or revoked.' },
          challenge: { type: 'apiKey', in: 'header', name: 'x-rainbow-challenge', description: 'Random text chosen by the client (1 to 256 characters), covered by x-rainbow-app-auth' },
          appAuth: { type: 'apiKey', in: 'header', name: 'x-rainbow-app-auth', description: 'Basic base64(appId:sha256hex(appSecret + challenge)); a wrong digest is a 403' },
        },
      },
      tags: [
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'authentication', description: 'Login (HTTP Basic → JWT), logout' },
        { name: 'oauth', description: 'OAuth 2.0 authorization-code grant with PKCE (D17): authorize, token, revoke, metadata. Errors use RFC 6749\'s {error, error_description}' },
        { name: 'massprovisioning', description: 'CSV checks, imports, synchronization, reports, templates' },
        { name: 'admin', description: 'Read API over users and PBX numbers' },
        { name: 'enduser', description: 'The reads the official SDK makes around sign-in: a user, a company' },
      ],
    },
    transform: (args) => {
      const out = jsonSchemaTransform(args)
      const schema = out.schema as { response?: Record<string, unknown> }
      const success = schema.response ?? { 200: { description: 'Success' } }
      const method = args.route.method.toString()
      const upload = isCsvUpload(method, args.url) ? CSV_UPLOAD : {}
      return { ...out, schema: { ...schema, ...upload, response: { ...success, ...errorResponses(method, args.url) } } }
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
    staticCSP: DOCS_CSP,
  })
}, { name: 'openapi' })
