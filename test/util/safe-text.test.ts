import { describe, expect, it } from 'vitest'
import { echoPath, isSafeText, toSafeText } from '../../src/util/safe-text.js'

describe('safe text', () => {
  it('NUL and unpaired surrogates are unsafe; paired surrogates and other text are safe', () => {
    for (const s of ['', 'plain', 'é ü 中', '\ud83d\ude00', 'tab\tand\u0001control']) expect(isSafeText(s), JSON.stringify(s)).toBe(true)
    for (const s of ['\u0000', 'a\u0000', '\ud800', 'x\udc00', '\ude00\ud83d', '\ud83d\ud83d\ude00x\ud800']) expect(isSafeText(s), JSON.stringify(s)).toBe(false)
  })

  it('toSafeText replaces each of them by U+FFFD and keeps the rest', () => {
    expect(toSafeText('a\u0000b\ud800c\ud83d\ude00\udc00')).toBe('a\ufffdb\ufffdc\ud83d\ude00\ufffd')
    expect(toSafeText('\ud83d\ud83d\ude00')).toBe('\ufffd\ud83d\ude00')
  })

  it('echoPath percent-encodes everything outside the URL-safe characters and cuts at 200', () => {
    expect(echoPath('/api/users/6b10:x@y;z=1')).toBe('/api/users/6b10:x@y;z=1')
    expect(echoPath('/<a href="x">\r\n\u0000é\ud800')).toBe('/%3Ca%20href=%22x%22%3E%0D%0A%00%C3%A9%EF%BF%BD')
    expect(echoPath(`/${'a'.repeat(300)}`)).toBe(`/${'a'.repeat(199)}...`)
  })
})
