import { describe, expect, it } from 'vitest'
import { commentOption, delimiterOption, detectDelimiter } from '../../src/csv/dialect.js'
import { RainbowError } from '../../src/errors.js'
import { fileErrorOf, parse } from './helpers.js'

const sample = (d: string) => [
  ['__action__', 'loginEmail', 'firstName', 'lastName'].join(d),
  ['create', 'ann@example.com', 'Ann', 'Lee'].join(d),
  ['delete', 'bob@example.com', '', ''].join(d),
].join('\n')

describe('delimiter (D9)', () => {
  for (const d of [';', ',', '\t', '|']) {
    it(`detects ${JSON.stringify(d)} from the header and echoes it`, async () => {
      const r = await parse(sample(d))
      expect(r.delimiter).toBe(d)
      expect(r.errors).toEqual([])
      expect(r.rows.map((x) => [x.lineNumber, x.action, x.loginEmail, x.values.firstName])).toEqual([
        [2, 'create', 'ann@example.com', 'Ann'],
        [3, 'delete', 'bob@example.com', null],
      ])
    })

    it(`uses ${JSON.stringify(d)} when forced`, async () => {
      const r = await parse(sample(d), 'import', { delimiter: d })
      expect(r.delimiter).toBe(d)
      expect(r.rows).toHaveLength(2)
    })
  }

  it('detects from the header line, not from commas in values or comments', async () => {
    const r = await parse('% a comment, with, commas\n\n__action__;loginEmail;firstName % note, note\ncreate;a@example.com;"Lee, Ann"\n')
    expect(r.delimiter).toBe(';')
    expect(r.rows[0]?.values.firstName).toBe('Lee, Ann')
  })

  it('prefers ; on a tie and when the header has a single column', () => {
    expect(detectDelimiter('a;b,c\n', '%', '\n')).toBe(';')
    expect(detectDelimiter('loginEmail\n', '%', '\n')).toBe(';')
  })

  it('a forced delimiter that does not split the header is an unknown column with a hint', async () => {
    const e = await fileErrorOf(parse(sample(','), 'import', { delimiter: ';' }))
    expect(e).toMatchObject({ status: 400, code: 400502, line: 1 })
    expect(e.details).toMatch(/single column: is the delimiter ";" right\?/)
  })

  it('refuses unusable delimiter and comment parameters with 400000', () => {
    for (const bad of ['', ';;', '"', 'a', '7', ' ', '\n']) {
      expect(() => delimiterOption(bad, '%'), JSON.stringify(bad)).toThrow(RainbowError)
    }
    expect(() => delimiterOption('%', '%')).toThrow(/differ from the comment/)
    for (const bad of ['%%', '"', 'x', ' ']) expect(() => commentOption(bad), JSON.stringify(bad)).toThrow(RainbowError)
    try {
      delimiterOption('ab', '%')
    } catch (e) {
      expect((e as RainbowError).statusCode).toBe(400)
      expect((e as RainbowError).errorDetailsCode).toBe(400000)
    }
  })

  it('takes % as the default comment, null for none', () => {
    expect(commentOption(undefined)).toBe('%')
    expect(commentOption('')).toBe('%')
    expect(commentOption('#')).toBe('#')
    expect(commentOption(null)).toBeNull()
  })
})
