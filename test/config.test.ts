import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CONFIG_KEYS, ConfigError, EnvSchema, loadConfig } from '../src/config.js'

describe('config', () => {
  it('starts embedded with nothing configured', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ embedded: true, PORT: 8080, HOST: '127.0.0.1', DATA_DIR: './data', JWT_TTL: 3600, REQUIRE_APP_AUTH: false })
    expect(c.JWT_SECRET).toBeUndefined()
  })

  it('requires JWT_SECRET with DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x' })).toThrow(/JWT_SECRET is required when DATABASE_URL is set/)
    const c = loadConfig({ DATABASE_URL: 'postgres://localhost/x', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: 'y'.repeat(32) })
    expect(c.embedded).toBe(false)
  })

  it('refuses bad values with every problem listed, and treats empty strings as unset', () => {
    let message = ''
    try {
      loadConfig({ PORT: 'eighty', JWT_SECRET: 'short', REQUIRE_APP_AUTH: 'maybe' })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      message = (err as Error).message
    }
    expect(message).toMatch(/PORT/)
    expect(message).toMatch(/JWT_SECRET: JWT_SECRET must be at least 32 characters/)
    expect(message).toMatch(/REQUIRE_APP_AUTH/)
    expect(loadConfig({ PORT: '', REQUIRE_APP_AUTH: 'true' })).toMatchObject({ PORT: 8080, REQUIRE_APP_AUTH: true })
  })

  it('refuses a REQUEST_TIMEOUT a queued check would outlast, and a HEADERS_TIMEOUT above it', () => {
    expect(loadConfig({})).toMatchObject({ HEADERS_TIMEOUT: 30, REQUEST_TIMEOUT: 300, BODY_TIMEOUT: 30, KEEP_ALIVE_TIMEOUT: 72, RATE_LIMIT_IP_MAX: 2400 })
    expect(() => loadConfig({ REQUEST_TIMEOUT: '60', CHECK_QUEUE_TIMEOUT: '60' })).toThrow(/REQUEST_TIMEOUT must be longer than CHECK_QUEUE_TIMEOUT/)
    expect(() => loadConfig({ REQUEST_TIMEOUT: '90', HEADERS_TIMEOUT: '120' })).toThrow(/HEADERS_TIMEOUT may not exceed REQUEST_TIMEOUT/)
    expect(() => loadConfig({ BODY_TIMEOUT: '0' })).toThrow(/BODY_TIMEOUT/)
  })

  it('docs/operations.md gives every variable its bounds, the schema\'s own', () => {
    const readme = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8')
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'))
    for (const key of CONFIG_KEYS) {
      const row = rows.find((r) => r.split(' | ')[0]!.includes('`' + key + '`'))
      expect(row, key).toBeDefined()
      const bounds = row!.split(' | ')[2]!
      let s = EnvSchema.shape[key] as unknown as { def: { type: string, innerType?: unknown }, minValue?: number | null, maxValue?: number | null, minLength?: number | null, maxLength?: number | null }
      while (s.def.innerType) s = s.def.innerType as typeof s
      if (s.def.type === 'number') expect(bounds, key).toMatch(new RegExp(`^${s.minValue}–${s.maxValue}\\b`))
      else if (s.def.type === 'string' && (s.minLength ?? 0) > 1) {
        expect(bounds, key).toMatch(s.maxLength ? new RegExp(`^${s.minLength}–${s.maxLength} characters`) : new RegExp(`^≥ ${s.minLength} characters`))
      } else expect(bounds.trim(), key).not.toBe('')
    }
  })

  it('docs/operations.md documents every variable the schema reads', () => {
    const readme = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8')
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5))
    const missing = CONFIG_KEYS.filter((k) => !table.includes('`' + k + '`'))
    expect(missing).toEqual([])
  })
})
