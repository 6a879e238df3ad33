import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, login, type TestApp } from '../helpers/app.js'
import { dbKinds } from '../helpers/databases.js'
import { PASSWORD, useWorld } from '../helpers/fixtures.js'
import { report } from '../helpers/reliability.js'

// Item 7 of issue 12, as a property: whatever the path, query, method, body and token, the answer is
// never a 5xx, every 4xx is exactly the Rainbow envelope, and the URL is never repeated as sent.

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000)
const TIME_LIMIT_MS = 150_000
const ENVELOPE_KEYS = ['errorCode', 'errorDetails', 'errorDetailsCode', 'errorMsg']
/** Marks what a URL must never bring back as is: raw, or decoded from its percent-encoding. */
const CANARY = '<q"z>'

const LOGIN = '/api/rainbow/authentication/v1.0/login'
const PREFIXES = ['/api/rainbow/massprovisioning/v1.0', '/api/rainbow/admin/v1.0', '/api/rainbow/authentication/v1.0', '', '/docs', '/docs/static', '/health', '/ready']
const WORDS = ['users', 'imports', 'synchronize', 'check', 'report', 'details', 'template', 'about', 'pbxs', 'phonenumbers', 'login', 'logout', 'urls', 'rainbowvoice', 'json', '6b102ca0510a433d58d8d3c8', 'cmd-1']
const NASTY = ['%00', '%ff', '%FF%FE', '%ed%a0%80', '%ED%B0%80', '%C0%80', '%zz', '%', '%2', '%0D%0A', '%0d%0aSet-Cookie:%20x=1', '%2F', '..', '%2e%2e', '%252F', '%u0000', '\u00e9', '\u{1F600}', '%F0%9F%98%80', ' ', '%20', '#', ';', encodeURIComponent(CANARY), CANARY]
const QUERY_KEYS = ['companyId', 'label', 'commandId', 'delimiter', 'comment', 'format', 'mode', 'limit', 'offset', 'ldapConfigId', 'uid', 'nostrict', 'noemails', 'useBackchannelPolling', '%00', 'x']

const piece = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  fc.integer({ min: 70, max: 3000 }).map((n) => 'a'.repeat(n))
)
const segment = fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join(''))
const query = fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.array(piece, { maxLength: 2 }).map((p) => p.join(''))), { maxLength: 3 })
  .map((pairs) => pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`)
const body = fc.oneof(
  fc.constant(undefined),
  fc.constant({ type: 'text/csv', payload: '__action__;loginEmail;firstName\nupsert;a\u0000b@example.com;A\u0000\ncreate;q@example.com;Q\n' }),
  fc.string({ maxLength: 80 }).map((s) => ({ type: 'text/csv; charset=utf-8', payload: `__action__;loginEmail\n${s}\n` })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ type: 'application/json', payload: JSON.stringify({ status: 'failure', details: v }) })),
  fc.integer({ min: 60, max: 3000 }).map((n) => ({ type: 'application/json', payload: `{"status":"failure","details":${'['.repeat(n)}${']'.repeat(n)}}` })),
  fc.string({ maxLength: 40 }).map((s) => ({ type: 'application/json', payload: s }))
)
const b64 = (s: string) => Buffer.from(s).toString('base64')
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('a\u0000b:c', '\u0000:', ':x', '6b10\u0000:ff'))
/** Credentials headers with random (base64-carried, so NUL-holding) content. */
const credentials = fc.oneof(
  fc.constant({}),
  text.map((t) => ({ 'x-rainbow-app-auth': `Basic ${b64(t)}` })),
  text.map((t) => ({ 'x-rainbow-app-auth': `Basic ${b64(t)}`, 'x-rainbow-challenge': 'c' })),
  fc.string({ unit: fc.constantFrom(...'abcdef0123456789-_'), maxLength: 40 }).map((t) => ({ apikey: t })),
  text.map((t) => ({ authorization: `Basic ${b64(t)}` }))
)
const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS') as fc.Arbitrary<'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD' | 'OPTIONS'>,
  prefix: fc.constantFrom(...PREFIXES, LOGIN),
  segments: fc.array(fc.oneof(fc.constantFrom(...WORDS), segment), { minLength: 0, maxLength: 5 }),
  query,
  body,
  authenticated: fc.boolean(),
  credentials,
})

describe.each(dbKinds())('random URLs on %s', (kind) => {
  const s = useWorld(kind)
  let app: TestApp
  let token = ''

  beforeAll(async () => {
    // Rate limits would turn most of the run into 429s: the property is about input, not volume.
    app = await buildTestApp(s.tdb.db, { RATE_LIMIT_MAX: 1_000_000, MAX_PENDING_IMPORTS: 1_000_000 })
    token = await login(app, s.world.adminA.email, PASSWORD)
  })
  afterAll(async () => {
    await app?.close()
  })

  it(`${RUNS} random requests: never 5xx, every 4xx the Rainbow envelope, the URL never echoed as sent`, async ({ task }) => {
    let sent = 0
    let server = 0
    const statuses: Record<string, number> = {}
    await fc.assert(fc.asyncProperty(request, async (r) => {
      const url = `${r.prefix}/${r.segments.join('/')}${r.query}`
      const res = await app.inject({
        method: r.method,
        url,
        headers: { ...r.credentials, ...(r.authenticated ? bearer(token) : {}), ...(r.body ? { 'content-type': r.body.type } : {}) },
        ...(r.body && r.method !== 'GET' && r.method !== 'HEAD' ? { payload: r.body.payload } : {}),
      })
      sent++
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
      if (res.statusCode >= 500) server++
      const what = `${r.method} ${url.slice(0, 300)} -> ${res.statusCode} ${res.body.slice(0, 300)}`
      expect(res.statusCode, what).toBeLessThan(500)
      if (res.statusCode >= 400 && r.method !== 'HEAD') {
        const envelope = res.json<Record<string, unknown>>()
        expect(Object.keys(envelope).sort(), what).toEqual(ENVELOPE_KEYS)
        expect(envelope.errorCode, what).toBe(res.statusCode)
        expect(typeof envelope.errorMsg, what).toBe('string')
        expect(Number.isInteger(envelope.errorDetailsCode), what).toBe(true)
        // Trimmed: the request drops a trailing space, and the echo is followed by " not found".
        const path = url.split('?')[0]!.trim()
        // Echoing a path made only of URL-safe characters is harmless; anything else comes back encoded.
        if (/[^A-Za-z0-9\-._~/%!$&()*+,;=:@]/.test(path)) expect(res.body, what).not.toContain(path)
        expect(res.body, what).not.toContain('<q')
        expect(res.body, what).not.toMatch(/[\r\n]/)
      }
      expect(res.headers['set-cookie'], what).toBeUndefined()
    }), { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false })
    const count = (from: number) => Object.entries(statuses).filter(([st]) => Number(st) >= from && Number(st) < from + 100).reduce((n, [, c]) => n + c, 0)
    report(task, { requests: sent, answered2xx: count(200), answered4xx: count(400), answered5xx: server })
    expect(sent).toBeGreaterThanOrEqual(Math.min(RUNS, 500))
    expect(statuses['200'] ?? 0, JSON.stringify(statuses)).toBeGreaterThan(0)
    expect(statuses['400'] ?? 0, JSON.stringify(statuses)).toBeGreaterThan(0)
  })
})
