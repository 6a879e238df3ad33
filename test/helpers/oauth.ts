import * as oauth from 'oauth4webapi'
import type { TestApp } from './app.js'

export const ISSUER = 'http://127.0.0.1:8080'
export const OAUTH = '/api/rainbow/authentication/v1.0/oauth'

/** A fetch that goes through app.inject: oauth4webapi and the "browser" talk to the real routes without a socket. */
export function injectFetch (app: TestApp) {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString())
    const headers = Object.fromEntries(new Headers(init?.headers).entries())
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body)
    const res = await app.inject({ method: (init?.method ?? 'GET') as 'GET', url: url.pathname + url.search, headers, ...(body !== undefined ? { payload: body } : {}) })
    const out = new Headers()
    for (const [k, v] of Object.entries(res.headers)) {
      for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined) out.append(k, String(one))
    }
    const nullBody = res.statusCode === 204 || res.statusCode === 304 || (res.statusCode >= 300 && res.statusCode < 400)
    return new Response(nullBody ? null : res.rawPayload, { status: res.statusCode, headers: out })
  }
}

/** Options every oauth4webapi call takes here: our fetch, and plain http (the test issuer is loopback). */
export function libOptions (app: TestApp) {
  return { [oauth.customFetch]: injectFetch(app), [oauth.allowInsecureRequests]: true }
}

export async function discover (app: TestApp): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER)
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...libOptions(app) })
  return oauth.processDiscoveryResponse(issuer, res)
}

/** A browser reduced to what the sign-in pages need: a cookie jar, manual redirects, and forms read from the HTML. */
export class Browser {
  readonly cookies = new Map<string, string>()
  constructor (private readonly app: TestApp) {}

  async request (method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    const u = new URL(url, ISSUER)
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await this.app.inject({
      method,
      url: u.pathname + u.search,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    })
    const setCookie = res.headers['set-cookie']
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair, ...attrs] = line.split(';')
      const [name, value] = pair!.split('=') as [string, string]
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a))
      if (expired || value === '') this.cookies.delete(name.trim())
      else this.cookies.set(name.trim(), value)
    }
    return res
  }

  /** The first form of the page: its action and its fields (inputs with a name, and the named submit buttons). */
  static form (html: string): { action: string, fields: Record<string, string>, buttons: Record<string, string[]> } {
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html)
    if (!form) throw new Error(`no form in page: ${html.slice(0, 300)}`)
    const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
    const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1]
    const fields: Record<string, string> = {}
    for (const [tag] of form[2]!.matchAll(/<input\b[^>]*>/g)) {
      const name = attr(tag, 'name')
      if (name) fields[name] = unescape(attr(tag, 'value') ?? '')
    }
    const buttons: Record<string, string[]> = {}
    for (const [tag] of form[2]!.matchAll(/<button\b[^>]*>/g)) {
      const name = attr(tag, 'name')
      if (name) (buttons[name] ??= []).push(attr(tag, 'value') ?? '')
    }
    return { action: unescape(form[1]!), fields, buttons }
  }

  /** Opens the authorization URL, signs in with the form, answers the consent; the final redirect's Location. */
  async authorize (authorizationUrl: URL | string, login: string, password: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
    const start = await this.request('GET', authorizationUrl.toString())
    if (start.statusCode !== 200) throw new Error(`authorize answered ${start.statusCode}: ${start.body.slice(0, 300)}`)
    const signIn = Browser.form(start.body)
    const consentPage = await this.request('POST', signIn.action, { ...signIn.fields, login_email: login, password })
    if (consentPage.statusCode !== 200) throw new Error(`sign-in answered ${consentPage.statusCode}: ${consentPage.body.slice(0, 500)}`)
    const consent = Browser.form(consentPage.body)
    if (!consent.buttons.decision?.includes(decision)) throw new Error('no such consent button')
    const done = await this.request('POST', consent.action, { ...consent.fields, decision })
    if (done.statusCode !== 303 || !done.headers.location) throw new Error(`consent answered ${done.statusCode}: ${done.body.slice(0, 300)}`)
    return new URL(String(done.headers.location))
  }
}

export interface Pkce { verifier: string, challenge: string }
export async function pkce (): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier()
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) }
}

export function authorizationUrl (as: oauth.AuthorizationServer, params: Record<string, string>): URL {
  const url = new URL(as.authorization_endpoint!)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url
}
