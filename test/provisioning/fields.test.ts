import { describe, expect, it } from 'vitest'
import { diffFields, sameValue } from '../../src/provisioning/fields.js'

// A line's change is what differs from the stored value: lists of text compare element by element,
// objects (phone entries, e-mails) whatever their key order, as jsonb stores them.
describe('sameValue', () => {
  it('compares lists of text by element and order', () => {
    expect(sameValue(['Sales', 'Paris'], ['Sales', 'Paris'])).toBe(true)
    expect(sameValue([], [])).toBe(true)
    expect(sameValue(['Sales'], ['Sales', 'Paris'])).toBe(false)
    expect(sameValue(['Paris', 'Sales'], ['Sales', 'Paris'])).toBe(false)
    expect(sameValue(['1'], [1])).toBe(false)
    expect(sameValue(['Sales'], null)).toBe(false)
  })

  it('compares lists of objects whatever the key order', () => {
    expect(sameValue([{ email: 'a@x.example', type: 'home' }], [{ type: 'home', email: 'a@x.example' }])).toBe(true)
    expect(sameValue([{ email: 'a@x.example', type: 'home' }], [{ email: 'a@x.example', type: 'work' }])).toBe(false)
    expect(sameValue(['a@x.example'], [{ email: 'a@x.example' }])).toBe(false)
  })

  it('lists a service change, not an unchanged list', () => {
    const current = { services: ['Enterprise Demo'], tags: ['Sales'] } as unknown as Parameters<typeof diffFields>[1]
    expect(diffFields({ services: ['Enterprise Demo'], tags: ['Sales', 'Paris'] }, current)).toEqual({ tags: { from: ['Sales'], to: ['Sales', 'Paris'] } })
  })
})
