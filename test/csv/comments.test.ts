import { describe, expect, it } from 'vitest'
import { LineErrorCodes } from '../../src/csv/line-errors.js'
import { csv, parse } from './helpers.js'

const HEADER = '__action__;loginEmail;firstName;lastName'

describe('comments, blank lines and quoting (contract §4, D9)', () => {
  it('skips comment and blank lines but counts them in lineNumber', async () => {
    const r = await parse(csv(
      '% leading comment',
      '',
      HEADER,
      '   % indented comment',
      'create;a@example.com;Ann;Lee',
      '',
      '   ',
      ';;;',
      'delete;b@example.com;;',
      '% trailing block',
      '% __action__ ;Mandatory ;<create|update|delete>'
    ))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => [x.lineNumber, x.loginEmail])).toEqual([[5, 'a@example.com'], [9, 'b@example.com']])
  })

  it('an unquoted % anywhere starts a comment to the end of the line', async () => {
    const r = await parse(csv(HEADER, 'create;a@example.com;Ann;Lee % added by HR; "unbalanced quote'))
    expect(r.errors).toEqual([])
    expect(r.rows[0]?.values).toMatchObject({ firstName: 'Ann', lastName: 'Lee' })
    expect(r.rows[0]?.raw).toBe('create;a@example.com;Ann;Lee ')
  })

  it('a quoted % is data, and a comment may follow the closing quote', async () => {
    const r = await parse(csv(HEADER, 'create;a@example.com;"50% Ann";"Lee ""%"" Jr"% comment', 'create;b@example.com;"%";"x"  % comment'))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => [x.values.firstName, x.values.lastName])).toEqual([['50% Ann', 'Lee "%" Jr'], ['%', 'x']])
  })

  it('a comment that cuts a line leaves it short: a field-count error on that line that names the unquoted %', async () => {
    const r = await parse(csv(HEADER, 'create;a@example.com;50%off;Lee', 'create;b@example.com;Bo;Li', 'create;c@example.com;Cy'))
    expect(r.errors).toEqual([
      { lineNumber: 2, code: LineErrorCodes.fieldCount, message: 'the line has 3 fields, the header has 4: an unquoted % starts a comment that runs to the end of the line; quote values that contain %' },
      // Short without a comment: nothing about %.
      { lineNumber: 4, code: LineErrorCodes.fieldCount, message: 'the line has 3 fields, the header has 4' },
    ])
    expect(r.rows.map((x) => x.valid)).toEqual([false, true, false])
  })

  it('a % inside the last value cuts it: its error names the unquoted % (a password cut short, not "too short")', async () => {
    const r = await parse(csv('__action__;loginEmail;password', 'create;a@example.com;Ab1%defgh', 'create;b@example.com;Ab1!defgh'))
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ lineNumber: 2, column: 'password', code: LineErrorCodes.passwordPolicy })
    expect(r.errors[0]?.message).toMatch(/8 characters.*: an unquoted % starts a comment .*quote values that contain %$/)
    expect(r.errors[0]?.message).not.toContain('defgh')
    // With another comment character, the hint names it.
    const hash = await parse(csv('__action__;loginEmail;firstName;lastName', 'create;a@example.com;No#1;Lee'), 'import', { comment: '#' })
    expect(hash.errors[0]?.message).toMatch(/unquoted # starts a comment.*quote values that contain #$/)
  })

  it('uses another comment character when asked, and none with null', async () => {
    const hash = await parse(csv(HEADER, 'create;a@example.com;50%;Lee # note'), 'import', { comment: '#' })
    expect(hash.rows[0]?.values).toMatchObject({ firstName: '50%', lastName: 'Lee' })
    const none = await parse(csv(HEADER, 'create;a@example.com;50%;Lee'), 'import', { comment: null })
    expect(none.rows[0]?.values.firstName).toBe('50%')
  })

  it('keeps physical line numbers across multi-line quoted values', async () => {
    const r = await parse(csv(HEADER, 'create;a@example.com;"Ann', 'Marie', '% not a comment";Lee', '', 'create;b@example.com;Bo;"Li"', 'create;c@example.com;Cy;Wu'))
    expect(r.rows.map((x) => x.lineNumber)).toEqual([2, 6, 7])
    // No provisioning field is multi-line: the line break inside the value is refused.
    expect(r.errors).toEqual([{ lineNumber: 2, column: 'firstName', code: LineErrorCodes.controlCharacter, message: 'firstName: contains a control character (U+000A)' }])
  })

  it('reads CRLF and CR-only files', async () => {
    for (const nl of ['\r\n', '\r']) {
      const r = await parse([HEADER, 'create;a@example.com;Ann;"Lee"', '% c', 'create;b@example.com;Bo;Li', ''].join(nl))
      expect(r.errors).toEqual([])
      expect(r.rows.map((x) => [x.lineNumber, x.values.lastName, x.raw])).toEqual([
        [2, 'Lee', 'create;a@example.com;Ann;"Lee"'],
        [4, 'Li', 'create;b@example.com;Bo;Li'],
      ])
    }
  })

  it('trims values and reads RFC 4180 quoting', async () => {
    const r = await parse(csv(HEADER, '  create  ;  A@Example.com ;"  Ann ""Jo""  ";" Lee; Jr "'))
    expect(r.errors).toEqual([])
    expect(r.rows[0]).toMatchObject({ action: 'create', loginEmail: 'a@example.com', values: { firstName: 'Ann "Jo"', lastName: 'Lee; Jr' } })
  })

  it('a quote that does not start a field is data', async () => {
    const r = await parse(csv(HEADER, 'create;a@example.com;O"Neil;5" tall'))
    expect(r.rows[0]?.values).toMatchObject({ firstName: 'O"Neil', lastName: '5" tall' })
  })
})
