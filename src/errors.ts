import { STATUS_CODES } from 'node:http'

export type ErrorDetails = string | { param: string, msg: string, value?: unknown } | Array<{ param: string, msg: string, value?: unknown }>

/** The Rainbow error envelope (api-contract §1): HTTP status = errorCode. */
export interface RainbowErrorBody {
  errorCode: number
  errorMsg: string
  errorDetails: ErrorDetails
  errorDetailsCode: number
}

export class RainbowError extends Error {
  constructor (
    readonly statusCode: number,
    readonly errorDetailsCode: number,
    readonly details: ErrorDetails
  ) {
    super(typeof details === 'string' ? details : JSON.stringify(details))
    this.name = 'RainbowError'
  }

  toBody (): RainbowErrorBody {
    return envelope(this.statusCode, this.errorDetailsCode, this.details)
  }
}

export function envelope (status: number, detailsCode: number, details: ErrorDetails): RainbowErrorBody {
  return { errorCode: status, errorMsg: STATUS_CODES[status] ?? 'Error', errorDetails: details, errorDetailsCode: detailsCode }
}

/**
 * The catalogue: every error this server answers comes from here, so the codes stay consistent
 * and the OpenAPI can list them.
 */
export const Errors = {
  badParameter: (details: ErrorDetails) => new RainbowError(400, 400000, details),
  badJson: (details: string) => new RainbowError(400, 400001, details),
  missingCredentials: () => new RainbowError(401, 401500, 'Missing or malformed Authorization header'),
  invalidToken: (why = 'invalid token') => new RainbowError(401, 401501, why),
  tokenExpired: () => new RainbowError(401, 401502, 'jwt expired'),
  badLogin: () => new RainbowError(401, 401520, 'Invalid login or password'),
  badAppAuth: (why = 'Invalid application credentials') => new RainbowError(403, 403500, why),
  appAuthRequired: () => new RainbowError(403, 403501, 'Application authentication is required (x-rainbow-app-auth or APIKey)'),
  forbiddenRole: () => new RainbowError(403, 403000, 'This operation requires superadmin, organization_admin or company_admin rights'),
  insufficientScope: (scope: string) => new RainbowError(403, 403003, `This operation needs the OAuth scope ${scope}`),
  operatorOnly: () => new RainbowError(403, 403002, 'This route needs METRICS_TOKEN or a superadmin token'),
  forbiddenCompany: (companyId: string) => new RainbowError(403, 403001, `Company ${companyId} is outside your administration scope`),
  notFound: (what: string) => new RainbowError(404, 404000, `${what} not found`),
  badUrl: () => new RainbowError(400, 400002, 'The request URL is not valid (bad percent-encoding or characters)'),
  badHttpRequest: () => new RainbowError(400, 400003, 'Malformed HTTP request'),
  requestTimeout: (details = 'The request was not received in time (HEADERS_TIMEOUT or REQUEST_TIMEOUT)') => new RainbowError(408, 408000, details),
  paramTooLong: () => new RainbowError(414, 414000, 'A path parameter of the URL is too long'),
  headersTooLarge: () => new RainbowError(431, 431000, 'The request headers are too large'),
  routeNotFound: (method: string, url: string) => new RainbowError(404, 404001, `Route ${method} ${url} not found`),
  conflict: (details: string) => new RainbowError(409, 409000, details),
  deletionsNotConfirmed: (details: string) => new RainbowError(409, 409630, details),
  tooLarge: (details = 'Request body is too large') => new RainbowError(413, 413000, details),
  unsupportedMediaType: (type: string) => new RainbowError(415, 415000, `Unsupported Content-Type: ${type}`),
  tooManyRequests: (details = 'Too many requests') => new RainbowError(429, 429000, details),
  busy: (details: string) => new RainbowError(503, 503001, details),
  internal: (requestId: string) => new RainbowError(500, 500000, `Internal error (request id ${requestId})`),
  unavailable: (what: string) => new RainbowError(503, 503000, `${what} is unavailable`),
  // CSV intake (src/csv), contract §6 codes; errorDetails starts with "Line N: " when a line is at fault.
  csvInvalidFile: (details: string) => new RainbowError(400, 400501, details),
  csvInvalidColumn: (details: string) => new RainbowError(400, 400502, details),
  csvOverLimit: (details: string) => new RainbowError(400, 400504, details),
  csvInvalidAction: (details: string) => new RainbowError(400, 400506, details),
  csvNoData: (details: string) => new RainbowError(400, 400508, details),
} as const
