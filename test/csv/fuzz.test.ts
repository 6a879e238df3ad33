import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RainbowError } from '../../src/errors.js'
import type { EndpointKind } from '../../src/csv/types.js'
import { report } from '../helpers/reliability.js'
import { parse } from './helpers.js'

// A password that passes the policy; it must never come back in an error, wherever it lands.
const SECRET = 'S3cr3t!Pw'

const FRAGMENTS = [
  ';', ';', ';', ',', '|', '\t', '"', '""', '%', '\n', '\n', '\r\n', '\r', ' ', '\u0000', '\u00a0', 'a', 'Z', '0', '1', '@', '.', '=',
  '__action__', 'loginEmail', 'password', 'firstName', 'businessPhone0', 'country', 'tags0', 'pbxShortNumber', 'shortNumber',
  'create', 'update', 'delete', 'attach', 'upsert', 'sync', 'detach', 'a@example.com', 'A@EXAMPLE.COM', 'FRA', '4.91234E+10',
  '+33123456789', SECRET, SECRET,
]

const HEADERS = [
  '__action__;loginEmail;password;firstName;businessPhone0;country\n',
  '__action__,loginEmail,password,pbxShortNumber\n',
  '__action__;loginEmail;password;shortNumber;macAddress\n',
  '',
]

const csvish = fc.tuple(fc.constantFrom(...HEADERS), fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 300 }))
  .map(([header, parts]) => header + parts.join(''))

const endpoint = fc.constantFrom<EndpointKind>('import', 'synchronize', 'rainbowvoice')

const FILE_CODES = [400501, 400502, 400504, 400506, 400508]

describe('fuzz: random CSV-ish input', () => {
  it('only ever rejects with a file-level RainbowError 400, and never echoes a password', async ({ task }) => {
    let runs = 0
    await fc.assert(fc.asyncProperty(csvish, endpoint, fc.boolean(), async (text, kind, asBytes) => {
      runs++
      let output: string
      try {
        const r = await parse(asBytes ? Buffer.from(text) : text, kind)
        output = JSON.stringify(r.errors)
        for (const row of r.rows) {
          expect(row.lineNumber).toBeGreaterThan(0)
          // A password cell is blanked; the token may only remain where another column holds it.
          if (row.values.password === SECRET) expect(row.raw.split(SECRET).length).toBeLessThan(text.split(SECRET).length)
        }
      } catch (e) {
        expect(e).toBeInstanceOf(RainbowError)
        const err = e as RainbowError
        expect(err.statusCode).toBe(400)
        expect(FILE_CODES).toContain(err.errorDetailsCode)
        output = `${err.message} ${JSON.stringify(err.toBody())}`
      }
      expect(output).not.toContain(SECRET)
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 400) })
    report(task, { runs })
  })

  it('well-formed files with random cells keep every password out of the errors', async ({ task }) => {
    let runs = 0
    const cell = fc.array(fc.constantFrom('a', 'B', '1', ' ', '%', '"', '@', '.', '=', '+', '-', 'x@y.com', 'FRA', '0612345678', '4.9E+10', '\u0007'), { maxLength: 8 })
      // A quote opening a cell could carry the password into another column: quotes only inside.
      .map((p) => p.join('').replace(/^"/, 'a"'))
    const row = fc.tuple(fc.constantFrom('create', 'update', 'delete', 'crete'), cell, fc.boolean(), cell, cell, cell)
      .map(([action, login, withSecret, first, phone, country]) => [action, login, withSecret ? SECRET : 'weakpass', first, phone, country].join(';'))
    await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
      runs++
      const text = ['__action__;loginEmail;password;firstName;businessPhone0;country', ...rows].join('\n')
      const output = await parse(text).then((r) => JSON.stringify(r.errors) + r.rows.map((x) => x.raw).join('\n'), (e: unknown) => {
        expect(e).toBeInstanceOf(RainbowError)
        return String((e as RainbowError).details)
      })
      expect(output).not.toContain(SECRET)
      expect(output).not.toContain('weakpass')
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 300) })
    report(task, { runs })
  })
})
