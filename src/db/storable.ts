import { toSafeText } from '../util/safe-text.js'

/**
 * PostgreSQL text refuses NUL (22021) and jsonb refuses \u0000 and unpaired surrogates (22P05), where
 * PGlite fails alike: what a client sent that they cannot hold is kept with U+FFFD in its place. The
 * line or field at fault is already reported for it (3003), so nothing is lost that mattered.
 */
export function storableText<T extends string | null | undefined> (s: T): T {
  return (typeof s === 'string' ? toSafeText(s) : s) as T
}

// JSON.stringify escapes NUL as \u0000 and an unpaired surrogate as \udXXX (paired ones are written
// as they are); an escaped backslash is matched first so "\\u0000" (a backslash, then text) stays.
const UNSTORABLE_ESCAPE = /\\(\\|u0000|ud[89a-f][0-9a-f]{2})/g

/** JSON text for a jsonb parameter, with what jsonb cannot hold replaced by U+FFFD. */
export function storableJson (value: unknown): string {
  const json = JSON.stringify(value)
  if (!json.includes('\\u')) return json
  return json.replace(UNSTORABLE_ESCAPE, (m, what: string) => what === '\\' ? m : '\uFFFD')
}
