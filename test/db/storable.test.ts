import { describe, expect, it } from 'vitest'
import { storableJson, storableText } from '../../src/db/storable.js'
import { dbKinds, openTestDb } from '../helpers/databases.js'

describe('storable text and JSON', () => {
  it('replaces NUL and unpaired surrogates, keeps escaped backslashes, pairs and other escapes', () => {
    expect(storableText('a\u0000b\ud800')).toBe('a\ufffdb\ufffd')
    expect(storableText(null)).toBeNull()
    const value = { 'k\u0000': ['\u0000', '\\u0000', '\\\u0000', '\ud83d\ude00', '\udfff', '\u0001\n"'] }
    expect(JSON.parse(storableJson(value))).toEqual({ 'k\ufffd': ['\ufffd', '\\u0000', '\\\ufffd', '\ud83d\ude00', '\ufffd', '\u0001\n"'] })
    expect(storableJson({ a: 'plain' })).toBe('{"a":"plain"}')
  })

  it.each(dbKinds())('what they give is accepted by %s, where the raw values are refused', async (kind) => {
    const tdb = await openTestDb(kind)
    try {
      const text = 'x\u0000y\ud800'
      const json = { v: ['\u0000', '\udc00'] }
      await expect(tdb.db.query('SELECT $1::text AS t', [text])).rejects.toThrow()
      await expect(tdb.db.query('SELECT $1::jsonb AS j', [JSON.stringify(json)])).rejects.toThrow()
      expect(await tdb.db.query('SELECT $1::text AS t, $2::jsonb AS j', [storableText(text), storableJson(json)])).toEqual([{ t: 'x\ufffdy\ufffd', j: { v: ['\ufffd', '\ufffd'] } }])
    } finally {
      await tdb.close()
    }
  })
})
