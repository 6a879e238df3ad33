// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

/** No NUL and no unpaired surrogate: what PostgreSQL text and jsonb can hold, and UTF-8 can encode. */
export function isSafeText (s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s)
}

/** The same text with each NUL and unpaired surrogate replaced by U+FFFD. */
export function toSafeText (s: string): string {
  return isSafeText(s) ? s : s.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD') // eslint-disable-line no-control-regex
}

/** A lone surrogate has no UTF-8 form: it is echoed as U+FFFD; NUL, being ASCII, as %00. */
function encodeChar (c: string): string {
  const bytes = c === '\u0000' ? Buffer.of(0) : Buffer.from(toSafeText(c), 'utf8')
  return [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')
}

const ECHO_MAX = 200

/**
 * A request path fit to repeat in an answer: everything outside the URL's unreserved and sub-delim
 * characters is percent-encoded (so markup, quotes, controls and CRLF never come back as sent), and
 * a long one is cut short; a client's URL is never reflected verbatim.
 */
export function echoPath (path: string): string {
  const cut = path.length > ECHO_MAX ? path.slice(0, ECHO_MAX) : path
  const safe = cut.replace(/[^A-Za-z0-9\-._~/%!$&()*+,;=:@]/gu, encodeChar)
  return path.length > ECHO_MAX ? `${safe}...` : safe
}

/** An identifier a client sent, as an error message may show it: URL-safe characters as they are, the rest percent-encoded, cut at 200. */
export function echoId (id: string): string {
  return echoPath(id)
}
