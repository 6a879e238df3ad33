import { describe, expect, it } from 'vitest'
import { createLoginBackoff } from '../../src/services/login-backoff.js'

function clocked (over: Partial<Parameters<typeof createLoginBackoff>[0]> = {}) {
  const clock = { t: 1_000_000 }
  const backoff = createLoginBackoff({ maxFailures: 3, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 8000, now: () => clock.t, ...over })
  return { clock, backoff }
}

describe('login backoff', () => {
  it('admits maxFailures attempts, then holds the login for a delay that doubles per failure up to the cap', () => {
    const { clock, backoff } = clocked()
    expect([backoff.admit('a@x.com'), backoff.admit('a@x.com'), backoff.admit('a@x.com')]).toEqual([0, 0, 0])
    expect(backoff.admit('a@x.com')).toBe(1000)
    const holds: number[] = []
    for (let i = 0; i < 5; i++) {
      clock.t += backoff.admit('a@x.com')
      expect(backoff.admit('a@x.com')).toBe(0)
      holds.push(backoff.admit('a@x.com'))
    }
    expect(holds).toEqual([2000, 4000, 8000, 8000, 8000])
  })

  it('a hold does not grow while it runs: refused attempts are not counted', () => {
    const { clock, backoff } = clocked()
    for (let i = 0; i < 3; i++) backoff.admit('a@x.com')
    for (let i = 0; i < 10; i++) expect(backoff.admit('a@x.com')).toBeGreaterThan(0)
    clock.t += 1000
    expect(backoff.admit('a@x.com')).toBe(0)
    expect(backoff.admit('a@x.com')).toBe(2000)
  })

  it('keys on the trimmed, lower-cased login, and holds one login without touching another', () => {
    const { backoff } = clocked()
    backoff.admit('Nobody@Example.com')
    backoff.admit(' nobody@example.com ')
    backoff.admit('NOBODY@EXAMPLE.COM')
    expect(backoff.admit('nobody@example.com')).toBe(1000)
    expect(backoff.admit('somebody@example.com')).toBe(0)
  })

  it('a success forgets the login; a quiet window forgets its failures', () => {
    const { clock, backoff } = clocked()
    backoff.admit('a@x.com')
    backoff.admit('a@x.com')
    backoff.succeeded('a@x.com')
    backoff.admit('a@x.com')
    backoff.admit('a@x.com')
    expect(backoff.admit('a@x.com')).toBe(0)
    expect(backoff.admit('a@x.com')).toBe(1000)
    clock.t += 60_000
    expect(backoff.admit('a@x.com')).toBe(0)
    expect(backoff.admit('a@x.com')).toBe(0)
    expect(backoff.tracked).toBe(1)
  })

  it('remembers at most maxTracked logins, dropping the one whose last failure is oldest (the limit: a spray of other logins ends a hold)', () => {
    const { backoff } = clocked({ maxTracked: 100 })
    for (let i = 0; i < 3; i++) backoff.admit('target@x.com')
    for (let i = 0; i < 99; i++) backoff.admit(`spray-${i}@x.com`)
    expect(backoff.tracked).toBe(100)
    expect(backoff.admit('target@x.com')).toBe(1000)
    backoff.admit('one-more@x.com')
    expect(backoff.tracked).toBe(100)
    expect(backoff.admit('target@x.com')).toBe(0)
    expect(backoff.tracked).toBe(100)
  })
})
