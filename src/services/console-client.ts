import type { ApplicationService } from './applications.js'
import { checkRedirectUri, RedirectUriError } from './redirect-uris.js'

/** The console's OAuth client_id: fixed, so the page needs no configuration (a public client's id is no secret). */
export const CONSOLE_CLIENT_ID = 'c0a501e0c0a501e0c0a501e0'
export const CONSOLE_CLIENT_NAME = 'massprov console'
export const CONSOLE_PATH = '/console/'

/**
 * Where the console may be opened, each one a redirect URI: PUBLIC_URL's, and for a server reached
 * on loopback (or bound to every interface) its 127.0.0.1 and localhost addresses on the port it
 * listens on. A URI checkRedirectUri refuses (plain http on a public host) is left out and named.
 */
export function consoleRedirectUris (publicUrl: string | undefined, listening: { host: string, port: number }): { uris: string[], refused: string[] } {
  const candidates: string[] = []
  if (publicUrl) candidates.push(`${publicUrl.replace(/\/+$/, '')}${CONSOLE_PATH}`)
  const anyOrLoopback = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(listening.host)
  if (anyOrLoopback) {
    candidates.push(`http://127.0.0.1:${listening.port}${CONSOLE_PATH}`, `http://localhost:${listening.port}${CONSOLE_PATH}`)
    if (listening.host === '::1' || listening.host === '::') candidates.push(`http://[::1]:${listening.port}${CONSOLE_PATH}`)
  }
  const uris: string[] = []
  const refused: string[] = []
  for (const c of new Set(candidates)) {
    try {
      uris.push(checkRedirectUri(c))
    } catch (err) {
      if (!(err instanceof RedirectUriError)) throw err
      refused.push(c)
    }
  }
  return { uris, refused }
}

/** Registers the console as a public OAuth client on start (idempotent); the redirect URIs it now has. */
export async function registerConsoleClient (applications: ApplicationService, uris: string[]): Promise<string[]> {
  if (uris.length === 0) return []
  return applications.ensurePublicClient(CONSOLE_CLIENT_ID, CONSOLE_CLIENT_NAME, uris)
}
