import { describe, expect, it } from 'vitest'
import { decodeChunks, decodeCsv, firstInvalidUtf8 } from '../../src/csv/decode.js'
import { csv, fileErrorOf, parse } from './helpers.js'

const TEXT = csv('__action__;loginEmail;firstName', 'create;zoe@example.com;Zoë', 'create;bo@example.com;Bø')

const utf16be = (s: string) => {
  const le = Buffer.from(s, 'utf16le')
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1] as number, le[i] as number]
  return le
}

describe('decode (D9)', () => {
  it('reads UTF-8 without a BOM', async () => {
    const r = await parse(Buffer.from(TEXT))
    expect(r.rows.map((x) => x.values.firstName)).toEqual(['Zoë', 'Bø'])
  })

  it('strips a UTF-8 BOM', async () => {
    const r = await parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]))
    expect(r.header[0]).toBe('__action__')
    expect(r.rows).toHaveLength(2)
  })

  it('strips a BOM from text input too', async () => {
    const r = await parse(`\uFEFF${TEXT}`)
    expect(r.header[0]).toBe('__action__')
  })

  it('transcodes UTF-16 LE with a BOM', async () => {
    const r = await parse(Buffer.from(`\uFEFF${TEXT}`, 'utf16le'))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => x.values.firstName)).toEqual(['Zoë', 'Bø'])
  })

  it('transcodes UTF-16 BE with a BOM', async () => {
    const r = await parse(utf16be(`\uFEFF${TEXT}`))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => x.loginEmail)).toEqual(['zoe@example.com', 'bo@example.com'])
  })

  it('refuses invalid UTF-8 with 400501 naming the line of the first bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from(csv('__action__;loginEmail;firstName', 'create;a@example.com;Ann')), Buffer.from('create;b@example.com;B'), Buffer.from([0xe9]), Buffer.from('n\n')])
    const e = await fileErrorOf(parse(bytes))
    expect(e).toMatchObject({ status: 400, code: 400501, line: 3 })
    expect(e.details).toMatch(/not valid UTF-8/)
  })

  it('names the line of a truncated sequence at the very end', async () => {
    const bytes = Buffer.concat([Buffer.from(csv('__action__;loginEmail', 'create;a@example.com', '', '% note')), Buffer.from([0xe2, 0x82])])
    expect(await fileErrorOf(parse(bytes))).toMatchObject({ status: 400, code: 400501, line: 5 })
  })

  it('counts CR line breaks in a file without LF', async () => {
    const bytes = Buffer.concat([Buffer.from('__action__;loginEmail\rcreate;a@example.com\rcreate;'), Buffer.from([0xc0, 0xaf]), Buffer.from('@x.com\r')])
    expect(await fileErrorOf(parse(bytes))).toMatchObject({ status: 400, code: 400501, line: 3 })
  })

  it('refuses UTF-32', async () => {
    expect(await fileErrorOf(parse(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0])))).toMatchObject({ status: 400, code: 400501, line: undefined })
  })

  it('refuses an unpaired surrogate in UTF-16 with its line', async () => {
    const body = Buffer.concat([Buffer.from(`\uFEFF${csv('__action__;loginEmail', 'create;a@example.com')}x`, 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])])
    expect(await fileErrorOf(parse(body))).toMatchObject({ status: 400, code: 400501, line: 3 })
  })

  it('names UTF-16 without a BOM as such, with no line (not a fault on the first line with an accent)', async () => {
    for (const bytes of [
      Buffer.from(csv('__action__;loginEmail', 'create;a@example.com'), 'utf16le'),
      Buffer.from(TEXT, 'utf16le'),
      utf16be(TEXT),
    ]) {
      const e = await fileErrorOf(parse(bytes))
      expect(e).toMatchObject({ status: 400, code: 400501, line: undefined })
      expect(e.details).toMatch(/^the file is UTF-16 \((little|big)-endian\) without a byte order mark: save it as UTF-8/)
    }
    expect((await fileErrorOf(parse(utf16be(TEXT)))).details).toMatch(/big-endian/)
  })

  it('decodes identically whatever the chunk size (multi-byte characters cut between chunks)', () => {
    const bytes = Buffer.from(`${TEXT}€𝄞`)
    for (const size of [1, 2, 3, 5, 7, 64]) expect([...decodeChunks(bytes, size)].join('')).toBe(`${TEXT}€𝄞`)
    expect(decodeCsv(bytes)).toBe(`${TEXT}€𝄞`)
  })

  it('finds the first invalid UTF-8 sequence (overlong, surrogate, out of range, stray continuation)', () => {
    expect(firstInvalidUtf8(Buffer.from('abc'))).toBe(-1)
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1)
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2)
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0)
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x80]))).toBe(1)
    expect(firstInvalidUtf8(Buffer.from('é€𝄞', 'utf8'))).toBe(-1)
  })
})
