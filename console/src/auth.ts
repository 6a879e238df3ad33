// Sign-in: OAuth 2.0 authorization code with PKCE S256, the console being the public client the
// server registers at start. Tokens live in sessionStorage (this tab only) and are refreshed with
// the rotating refresh token.

const OAUTH = '/api/rainbow/authentication/v1.0/oauth'
const TOKENS = 'mp.tokens'
const FLOW = 'mp.flow'

export interface Tokens { accessToken: string, refreshToken: string, expiresAt: number }
interface ConsoleConfig { clientId: string, redirectUris: string[] }

let config: ConsoleConfig | undefined

export async function consoleConfig (): Promise<ConsoleConfig> {
  if (!config) {
    const res = await fetch('/console/config.json')
    if (!res.ok) throw new Error(`the console configuration did not load (HTTP ${res.status})`)
    config = await res.json() as ConsoleConfig
  }
  return config
}

/** The redirect URI of this page's origin, when the server registered one. */
export function redirectUriFor (cfg: ConsoleConfig): string | undefined {
  const mine = `${location.origin}/console/`
  return cfg.redirectUris.find((u) => u === mine)
}

function b64url (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function randomString (bytes: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

export function storedTokens (): Tokens | undefined {
  const raw = sessionStorage.getItem(TOKENS)
  return raw ? JSON.parse(raw) as Tokens : undefined
}

function keep (answer: { access_token: string, refresh_token: string, expires_in: number }): Tokens {
  const t = { accessToken: answer.access_token, refreshToken: answer.refresh_token, expiresAt: Date.now() + answer.expires_in * 1000 }
  sessionStorage.setItem(TOKENS, JSON.stringify(t))
  return t
}

/** Leaves for the server's sign-in page; comes back to /console/ with a code. */
export async function signIn (returnTo: string): Promise<void> {
  const cfg = await consoleConfig()
  const redirectUri = redirectUriFor(cfg)
  if (!redirectUri) throw new Error(`Sign-in works at ${cfg.redirectUris[0] ?? 'the server\'s PUBLIC_URL'}, not at ${location.origin}: open the console there.`)
  const verifier = randomString(48)
  const state = randomString(16)
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  sessionStorage.setItem(FLOW, JSON.stringify({ verifier, state, redirectUri, returnTo }))
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.clientId,
    redirect_uri: redirectUri,
    state,
    code_challenge: b64url(digest),
    code_challenge_method: 'S256',
  })
  location.assign(`${OAUTH}/authorize?${q.toString()}`)
}

async function tokenRequest (form: Record<string, string>): Promise<Tokens> {
  const res = await fetch(`${OAUTH}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  })
  const body = await res.json() as { access_token: string, refresh_token: string, expires_in: number, error?: string, error_description?: string }
  if (!res.ok) throw new Error(body.error_description ?? body.error ?? `sign-in failed (HTTP ${res.status})`)
  return keep(body)
}

/** On the way back from the sign-in page: trades the code for tokens; the page to show then. */
export async function finishSignIn (): Promise<string | undefined> {
  const params = new URLSearchParams(location.search)
  const code = params.get('code')
  const error = params.get('error')
  if (!code && !error) return undefined
  const flow = JSON.parse(sessionStorage.getItem(FLOW) ?? 'null') as { verifier: string, state: string, redirectUri: string, returnTo: string } | null
  sessionStorage.removeItem(FLOW)
  history.replaceState(null, '', '/console/')
  if (error) throw new Error(params.get('error_description') ?? error)
  if (!flow || flow.state !== params.get('state')) throw new Error('This sign-in answer does not belong to this tab: sign in again.')
  const cfg = await consoleConfig()
  await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: flow.redirectUri, code_verifier: flow.verifier, client_id: cfg.clientId })
  return flow.returnTo
}

let refreshing: Promise<Tokens | undefined> | undefined

/** A new access token from the refresh token (one at a time: a rotated refresh token is single-use). */
export function refresh (): Promise<Tokens | undefined> {
  refreshing ??= (async () => {
    const t = storedTokens()
    if (!t) return undefined
    try {
      const cfg = await consoleConfig()
      return await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refreshToken, client_id: cfg.clientId })
    } catch {
      sessionStorage.removeItem(TOKENS)
      return undefined
    }
  })().finally(() => { refreshing = undefined })
  return refreshing
}

export async function signOut (): Promise<void> {
  const t = storedTokens()
  sessionStorage.removeItem(TOKENS)
  if (!t) return
  const cfg = await consoleConfig()
  await fetch(`${OAUTH}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: t.refreshToken, client_id: cfg.clientId }).toString(),
  }).catch((err: unknown) => {
    // The tokens are gone from this tab already; an unrevoked refresh token still expires on its own.
    console.warn('massprov: the refresh token could not be revoked', err)
  })
}
