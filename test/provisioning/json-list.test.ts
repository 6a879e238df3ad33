import { setImmediate as turn } from 'node:timers/promises'
import { inflateRawSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { JsonList } from '../../src/provisioning/check.js'

const inflated = async (list: JsonList): Promise<string> => {
  const piece = await list.finish()
  if (!piece.deflated) throw new Error('expected a deflated piece')
  const text = inflateRawSync(Buffer.concat(piece.chunks)).toString('utf8')
  expect(Buffer.byteLength(text)).toBe(piece.bytes)
  return text
}

// The check's answer holds its errors and plan as these lists: each element is encoded straight into
// a piece of 256 KB, whatever its characters, and one larger than a piece goes on its own.
describe('JsonList', () => {
  it('gives back every element, in order, comma-separated, across many pieces and any characters', async () => {
    const list = new JsonList()
    const elements: string[] = []
    for (let i = 0; i < 20_000; i++) {
      // One, two, three and four UTF-8 bytes a character (a surrogate pair), at every offset of a piece.
      const name = ['Zoé', 'Łukasz', '€uro', 'emoji 😀', 'plain'][i % 5]!.repeat(1 + (i % 7))
      elements.push(JSON.stringify({ lineNumber: i + 2, firstName: name }))
    }
    // Larger than a piece (3 bytes a character reserved): written on its own, between two others.
    elements.splice(10_000, 0, JSON.stringify({ big: '€'.repeat(100_000) }))
    for (const e of elements) list.add(e)
    const text = await inflated(list)
    expect(text).toBe(elements.join(','))
    expect(JSON.parse(`[${text}]`)).toHaveLength(20_001)
  })

  // As in a check, the event loop turns between batches: the deflater hands pieces back, and the
  // list writes into them again. A piece written again before the deflater read it would show here.
  it('gives back every element when pieces are written again between turns of the event loop', async () => {
    const list = new JsonList()
    const elements: string[] = []
    for (let i = 0; i < 60_000; i++) {
      elements.push(JSON.stringify({ lineNumber: i + 2, loginEmail: `user${i}@example.com`, firstName: 'Zoé €'.repeat(1 + (i % 9)) }))
      list.add(elements[i]!)
      if (i % 500 === 0) await turn()
    }
    expect(await inflated(list)).toBe(elements.join(','))
  })

  it('starts with a large element, and an empty list is empty', async () => {
    const first = new JsonList()
    const big = JSON.stringify('x'.repeat(300_000))
    first.add(big)
    first.add('1')
    expect(await inflated(first)).toBe(`${big},1`)
    expect(await inflated(new JsonList())).toBe('')
  })
})
