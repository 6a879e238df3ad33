const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

export class RedirectUriError extends Error {}

/**
 * A redirect URI a client may register (RFC 9700 §2.1, §4.1): absolute, https (http only on a
 * loopback host, for native and development clients), no fragment, no credentials. Registered
 * strings are compared exactly, so nothing here rewrites one.
 */
export function checkRedirectUri (raw: string): string {
  const uri = raw.trim()
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new RedirectUriError(`redirect URI "${uri}" is not an absolute URI`)
  }
  if (uri.length > 2000) throw new RedirectUriError('a redirect URI is at most 2,000 characters')
  if (url.hash !== '' || uri.includes('#')) throw new RedirectUriError(`redirect URI "${uri}" has a fragment`)
  if (url.username !== '' || url.password !== '') throw new RedirectUriError(`redirect URI "${uri}" carries credentials`)
  if (uri.includes('*')) throw new RedirectUriError(`redirect URI "${uri}" has a wildcard; URIs are matched exactly`)
  if (url.protocol === 'https:') return uri
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return uri
  throw new RedirectUriError(`redirect URI "${uri}" must be https (http only on 127.0.0.1, [::1] or localhost)`)
}
