import { STATUS_CODES } from 'node:http'
import { LineErrorCodes } from '../csv/line-errors.js'
import { PlanCodes } from '../provisioning/codes.js'

/**
 * Error answers per route, derived from the path and method so the document lists every status a
 * client can meet without each route repeating the catalogue. Codes are errorDetailsCode values of
 * src/errors.ts.
 */
const CODES: Record<number, number[]> = {
  400: [400000, 400001, 400002],
  401: [401500, 401501, 401502],
  403: [403000, 403001, 403003, 403500, 403501],
  404: [404000, 404001],
  409: [409000],
  413: [413000],
  414: [414000],
  415: [415000],
  429: [429000],
  500: [500000],
  503: [503000, 503001],
}

const CSV_FILE_CODES = [400501, 400502, 400504, 400506, 400508]

function envelope (status: number, codes: number[], description: string) {
  return {
    description,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['errorCode', 'errorMsg', 'errorDetails', 'errorDetailsCode'],
          properties: {
            errorCode: { type: 'integer', const: status },
            errorMsg: { type: 'string', examples: [STATUS_CODES[status]] },
            errorDetails: {
              description: 'A message ("Line N: …" when a CSV line is at fault) or a list of {param, msg}',
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { param: { type: 'string' }, msg: { type: 'string' } } } }],
            },
            errorDetailsCode: { type: 'integer', enum: codes },
          },
        },
      },
    },
  }
}

export function isCsvUpload (method: string, url: string): boolean {
  return method === 'POST' && /\/users\/imports(\/synchronize|\/rainbowvoice)?(\/check)?$/.test(url)
}

/** The CSV routes read the raw body (their own parser), so the document states it here. */
export const CSV_UPLOAD = {
  consumes: ['text/csv', 'text/plain', 'application/octet-stream'],
  body: {
    type: 'string',
    format: 'binary',
    description: 'The CSV file: UTF-8 (BOM optional) or UTF-16 with BOM; delimiter `;` `,` TAB or `|` (detected or given); comment lines start with the `comment` character (default %). Limits: D8.',
  },
}

export function errorResponses (method: string, url: string): Record<string, unknown> {
  const statuses = new Map<number, { codes: number[], why: string }>()
  const add = (status: number, why: string, codes = CODES[status] ?? []) => statuses.set(status, { codes, why })
  const csv = isCsvUpload(method, url)

  if (url === '/health' || url.startsWith('/.well-known/')) return {}
  if (url.endsWith('/oauth/token') || url.endsWith('/oauth/revoke')) return oauthErrors()
  if (url.endsWith('/oauth/authorize')) {
    return {
      302: { description: 'Back to the redirect URI with code, state and iss, or with error (invalid_request, unsupported_response_type, invalid_scope, access_denied), error_description, state and iss' },
      400: { description: 'An HTML error page: unknown client_id, or a redirect_uri not registered exactly (never redirected to)', content: { 'text/html': { schema: { type: 'string' } } } },
    }
  }
  if (url === '/ready') return { 503: { description: 'A dependency does not answer (same body as 200 with status "unavailable")' } }
  add(400, 'Invalid parameter or body', csv ? [...CODES[400]!, ...CSV_FILE_CODES] : CODES[400])
  if (url.endsWith('/login')) add(401, 'Missing or wrong credentials', [401500, 401520])
  else if (!url.endsWith('/urls') && !url.endsWith('/logout') && !url.endsWith('/about')) {
    add(401, 'Missing, invalid, expired or revoked token')
    add(403, 'Not an administrator, or the company is outside the caller\'s scope')
  }
  if (url.endsWith('/login')) add(403, 'Wrong application credentials', [403500, 403501])
  if (url.includes(':')) {
    add(404, 'Unknown, or belonging to another company')
    add(414, 'A path parameter is longer than the router accepts')
  }
  if (url.includes('/cloudpbx')) add(404, 'The company has no Cloud PBX (Rainbow Voice)')
  if (csv) {
    add(413, 'The file is over the size limit (D8)')
    add(415, 'Content-Type is not text/csv, text/plain or application/octet-stream')
  }
  if (csv && !url.endsWith('/check')) {
    add(409, 'The same file was already imported for this company (names its reqId, D2), or 409630: its deletions are over MAX_DELETE_PERCENT of the company\'s users and confirmDeletes is not their count (deletion safeguard)', [409000, 409630])
  }
  if (method === 'DELETE') add(409, 'The import is still Pending')
  if (method !== 'GET') add(408, 'The request did not arrive in time (HEADERS_TIMEOUT, BODY_TIMEOUT, REQUEST_TIMEOUT); the connection is then closed', [408000])
  if (url.endsWith('/cancel')) add(409, 'The import has already ended (Terminated, Failed or Cancelled): nothing to cancel')
  add(429, 'Rate limit or concurrency cap reached (Retry-After says when to come back)')
  add(500, 'Unexpected failure; the message carries the request id')
  if (method !== 'GET') add(503, 'The database or the queue is unavailable: nothing was accepted')

  return Object.fromEntries([...statuses].map(([status, { codes, why }]) => [String(status), envelope(status, codes, why)]))
}

/** The OAuth endpoints answer RFC 6749 §5.2's shape, not the Rainbow envelope. */
function oauthErrors (): Record<string, unknown> {
  const body = (codes: string[], description: string) => ({
    description,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'string', enum: codes }, error_description: { type: 'string' } },
        },
      },
    },
  })
  return {
    400: body(['invalid_request', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'], 'RFC 6749 §5.2 error'),
    401: body(['invalid_client'], 'Client authentication failed (with WWW-Authenticate: Basic)'),
    429: body(['temporarily_unavailable'], 'Rate limit reached'),
    500: body(['server_error'], 'Unexpected failure; error_description carries the request id'),
  }
}

/** Per-line codes of check answers and import reports (`errorCode`), for the document's description. */
export function lineCodeTable (): string {
  const rows = [...Object.entries(LineErrorCodes), ...Object.entries(PlanCodes)]
    .sort((a, b) => a[1] - b[1])
    .map(([name, code]) => `| ${code} | ${name} |`)
  return ['| errorCode | meaning |', '|---|---|', ...rows].join('\n')
}
