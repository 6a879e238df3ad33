import { ClientError, HttpError, type Envelope } from './errors.js'

export const AUTH = '/api/rainbow/authentication/v1.0'
export const MP = '/api/rainbow/massprovisioning/v1.0'

export interface Request {
  method?: 'GET' | 'POST'
  path: string
  query?: Record<string, string | undefined>
  headers?: Record<string, string>
  body?: Uint8Array
}

/** The one way the client talks to the server: fetch, errors turned into HttpError or ClientError. */
export interface Http {
  json: <T>(req: Request) => Promise<T>
  text: (req: Request) => Promise<string>
}

export function createHttp (server: string, token: string | undefined, fetchImpl: typeof fetch = fetch): Http {
  async function send (req: Request): Promise<Response> {
    const url = new URL(server.replace(/\/+$/, '') + req.path)
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    if (token !== undefined && headers.authorization === undefined) headers.authorization = `Bearer ${token}`
    let res: Response
    try {
      res = await fetchImpl(url, { method: req.method ?? 'GET', headers, ...(req.body ? { body: req.body } : {}) })
    } catch (err) {
      const cause = (err as { cause?: { code?: string, message?: string } }).cause
      throw new ClientError(`cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
    }
    if (!res.ok) throw new HttpError(res.status, await envelopeOf(res))
    return res
  }
  return {
    json: async <T>(req: Request) => {
      const res = await send(req)
      try {
        return await res.json() as T
      } catch {
        throw new ClientError(`${req.path}: the server's answer is not JSON`)
      }
    },
    text: async (req) => await (await send(req)).text(),
  }
}

async function envelopeOf (res: Response): Promise<Envelope> {
  const text = await res.text().catch(() => '')
  try {
    const body = JSON.parse(text) as unknown
    if (body !== null && typeof body === 'object') return body as Envelope
  } catch {
    // Not the envelope (a proxy's page, say): its first line is the best description there is.
  }
  return { errorCode: res.status, errorMsg: res.statusText, errorDetails: text.split('\n')[0]?.slice(0, 200) || undefined }
}
