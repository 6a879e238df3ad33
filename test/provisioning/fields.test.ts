import { describe, expect, it } from 'vitest'
import type { RowValues } from '../../src/csv/types.js'
import { diffFields, requestedFields, sameValue } from '../../src/provisioning/fields.js'

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

// Indexed columns work position by position (tags1 is the second tag); '' is an empty cell, null a
// column the file does not have.
describe('requestedFields on indexed columns', () => {
  const stored = { tags: ['a', 'b', 'c'], services: [] as string[] }
  const tags = (cells: Array<string | null>, applyEmpty: boolean, existing: typeof stored | undefined = stored) =>
    requestedFields({ tags: cells } as RowValues, applyEmpty, existing).tags

  it('sets the positions of filled cells and keeps the others', () => {
    expect(tags(['x'], false)).toEqual(['x', 'b', 'c'])
    expect(tags([null, 'y'], false)).toEqual(['a', 'y', 'c'])
    expect(tags(['', '', '', 'd'], false)).toEqual(['a', 'b', 'c', 'd'])
    expect(tags([null, 'y'], false, { tags: [], services: [] })).toEqual(['y'])
  })

  it('clears an empty cell under sync only, and leaves a list alone when nothing changes it', () => {
    expect(tags(['', 'y'], true)).toEqual(['y', 'c'])
    expect(tags(['', null, ''], true)).toEqual(['b'])
    expect(tags(['', null], false)).toBeUndefined()
    expect(tags([null, null], true)).toBeUndefined()
    expect(tags(['', ''], true, { tags: [], services: [] })).toBeUndefined()
  })
})
