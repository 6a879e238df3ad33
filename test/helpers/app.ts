import type { Db } from '../../src/db/db.js'
import { buildApp, type AppDeps } from '../../src/app.js'

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789'
export const TEST_ISSUER = 'massprov'
export const TEST_SECRETS_KEY = 'test-secrets-key-test-secrets-key-0123456789'
export const TEST_METRICS_TOKEN = 'test-metrics-token-test-metrics-token-0123'
/** What a scraper sends to read /metrics and the details of /ready. */
export const OPERATOR = { authorization: `Bearer ${TEST_METRICS_TOKEN}` }

export type TestApp = Awaited<ReturnType<typeof buildApp>>

export async function buildTestApp (db: Db, overrides: Partial<AppDeps['config']> & Pick<AppDeps, 'checks'> = {}): Promise<TestApp> {
  const { checks, ...config } = overrides
  const app = await buildApp({
    db,
    config: { JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, JWT_TTL: 3600, JWT_ISSUER: TEST_ISSUER, REQUIRE_APP_AUTH: false, METRICS_TOKEN: TEST_METRICS_TOKEN, ...config },
    checks,
  })
  await app.ready()
  return app
}

export function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

export async function login (app: TestApp, email: string, password: string): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/api/rainbow/authentication/v1.0/login', headers: { authorization: basic(email, password) } })
  if (res.statusCode !== 200) throw new Error(`login of ${email} failed: ${res.statusCode} ${res.body}`)
  return res.json<{ token: string }>().token
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
