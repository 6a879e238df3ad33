import { describe, expect, it } from 'vitest'
import { jsonDepthExceeds } from '../../src/plugins/json-body.js'

describe('JSON depth bound', () => {
  it('counts nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false)
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true)
    expect(jsonDepthExceeds('{"a":{"b":[1]}}', 3)).toBe(false)
    expect(jsonDepthExceeds('{"a":{"b":[{}]}}', 3)).toBe(true)
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[{{{{' }), 1)).toBe(false)
    expect(jsonDepthExceeds(JSON.stringify({ s: 'a\\"[[[[' }), 1)).toBe(false)
    expect(jsonDepthExceeds('[1],[2],[3]', 1)).toBe(false)
  })

  it('a million levels is answered at once, without recursion', () => {
    const started = performance.now()
    expect(jsonDepthExceeds('['.repeat(1_000_000), 64)).toBe(true)
    expect(performance.now() - started).toBeLessThan(100)
  })
})
