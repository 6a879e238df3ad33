import { describe, expect, it } from 'vitest'
import { LineErrorCodes as C } from '../../src/csv/line-errors.js'
import type { EndpointKind } from '../../src/csv/types.js'
import { USER_HEADER, csv, parse } from './helpers.js'

describe('line-level errors (all of them, with line, column and code)', () => {
  it('a NUL or another control character in a value', async () => {
    const r = await parse(csv(USER_HEADER, 'create;a@example.com;;An\u0000n;Lee', 'create;b@example.com;;Bo;L\u0007i\u0085', 'create;c@example.com;;Cy;Wu'))
    expect(r.errors).toEqual([
      { lineNumber: 2, column: 'firstName', code: C.controlCharacter, message: 'firstName: contains a NUL character' },
      { lineNumber: 3, column: 'lastName', code: C.controlCharacter, message: 'lastName: contains a control character (U+0007)' },
    ])
    expect(r.rows.map((x) => x.valid)).toEqual([false, false, true])
  })

  for (const [first, second] of [['Alice@x.com', 'alice@X.COM'], ['bob@example.com', 'BOB@EXAMPLE.COM']] as const) {
    it(`the same loginEmail twice (${first} / ${second}) is an error on the later line`, async () => {
      const r = await parse(csv(USER_HEADER, `create;${first};;A;B`, '% between', `update;${second};;C;D`))
      expect(r.errors).toEqual([{ lineNumber: 4, column: 'loginEmail', code: C.duplicateLogin, message: 'loginEmail: already on line 2 (compared without case)' }])
      expect(r.rows.map((x) => [x.lineNumber, x.loginEmail, x.valid])).toEqual([[2, first.toLowerCase(), true], [4, second.toLowerCase(), false]])
    })
  }

  it('the same loginEmail on a detach then an attach (or force_attach) is allowed once: moving a user to another extension', async () => {
    const H = '__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number'
    const moved = await parse(csv(H, 'detach;a@example.com;;;;', 'attach;A@example.com;;2001;;', 'detach;b@example.com;;;;', 'force_attach;b@example.com;;2002;;'))
    expect(moved.errors).toEqual([])
    expect(moved.rows.map((x) => x.valid)).toEqual([true, true, true, true])
    // Any other order or a third line is still 3004.
    const refused = await parse(csv(H, 'attach;c@example.com;;2001;;', 'detach;c@example.com;;;;', 'detach;d@example.com;;;;', 'attach;d@example.com;;2002;;', 'attach;d@example.com;;2003;;', 'detach;e@example.com;;;;', 'detach;e@example.com;;;;'))
    expect(refused.errors.map((e) => [e.lineNumber, e.code])).toEqual([[3, C.duplicateLogin], [6, C.duplicateLogin], [8, C.duplicateLogin]])
  })

  it('a line with fewer or more fields than the header', async () => {
    const r = await parse(csv(USER_HEADER, 'create;a@example.com;;A', 'create;b@example.com;;A;B;C', 'create;c@example.com;;A;B'))
    expect(r.errors).toEqual([
      { lineNumber: 2, code: C.fieldCount, message: 'the line has 4 fields, the header has 5' },
      { lineNumber: 3, code: C.fieldCount, message: 'the line has 6 fields, the header has 5' },
    ])
    // Still identifiable, so an import can report them as failed lines.
    expect(r.rows.map((x) => [x.lineNumber, x.action, x.loginEmail, x.valid])).toEqual([[2, 'create', 'a@example.com', false], [3, 'create', 'b@example.com', false], [4, 'create', 'c@example.com', true]])
  })

  it('an empty loginEmail', async () => {
    const r = await parse(csv(USER_HEADER, 'delete;;;;'))
    expect(r.errors).toEqual([{ lineNumber: 2, column: 'loginEmail', code: C.required, message: 'loginEmail: is mandatory' }])
  })

  it('a spreadsheet-mangled phone number names the likely cause', async () => {
    const r = await parse(csv('__action__;loginEmail;businessPhone0;country', 'create;a@example.com;4.91234E+10;DEU'))
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ lineNumber: 2, column: 'businessPhone0', code: C.scientificNotation })
    expect(r.errors[0]?.message).toMatch(/^businessPhone0: is in scientific notation .*spreadsheet/)
  })

  // [endpoint, header, line, column, code]
  const cases: Array<[EndpointKind, string, string, string, number]> = [
    ['import', '__action__;loginEmail', 'create;not-an-email', 'loginEmail', C.invalidEmail],
    ['import', '__action__;loginEmail;email0', 'create;a@example.com;a@b', 'email0', C.invalidEmail],
    ['import', '__action__;loginEmail;password', 'create;a@example.com;weakpass', 'password', C.passwordPolicy],
    ['import', '__action__;loginEmail;title', `create;a@example.com;${'t'.repeat(256)}`, 'title', C.tooLong],
    ['import', '__action__;loginEmail;tags0', `create;a@example.com;${'t'.repeat(65)}`, 'tags0', C.tooLong],
    ['import', '__action__;loginEmail;country', 'create;a@example.com;FR', 'country', C.invalidCountry],
    ['import', '__action__;loginEmail;language', 'create;a@example.com;en_US', 'language', C.invalidLanguage],
    ['import', '__action__;loginEmail;timezone', 'create;a@example.com;Mars/Olympus', 'timezone', C.invalidTimezone],
    ['import', '__action__;loginEmail;visibility', 'create;a@example.com;secret', 'visibility', C.invalidEnum],
    ['import', '__action__;loginEmail;accountType', 'create;a@example.com;Premium', 'accountType', C.invalidEnum],
    ['import', '__action__;loginEmail;authenticationType', 'create;a@example.com;ldap', 'authenticationType', C.invalidEnum],
    ['import', '__action__;loginEmail;isInitialized', 'create;a@example.com;maybe', 'isInitialized', C.invalidBoolean],
    ['import', '__action__;loginEmail;photoUrl', 'create;a@example.com;ftp://x.org/a.png', 'photoUrl', C.invalidFormat],
    ['import', '__action__;loginEmail;businessPhone0', 'create;a@example.com;+33 12', 'businessPhone0', C.invalidPhone],
    ['import', '__action__;loginEmail;mobilePhone0', 'create;a@example.com;0612345678', 'mobilePhone0', C.invalidPhone],
    ['import', '__action__;loginEmail;mobilePhone1', 'create;a@example.com;call me', 'mobilePhone1', C.invalidPhone],
    ['import', '__action__;loginEmail;pbxShortNumber', 'attach;a@example.com;10a', 'pbxShortNumber', C.invalidFormat],
    ['import', '__action__;loginEmail;pbxId;pbxShortNumber', 'attach;a@example.com;bad id!;1000', 'pbxId', C.invalidFormat],
    ['import', '__action__;loginEmail;pbxShortNumber;number', 'attach;a@example.com;1000;1.2E+10', 'number', C.scientificNotation],
    ['import', '__action__;loginEmail;pbxId', 'attach;a@example.com;DEMO-PBX-0001', 'pbxShortNumber', C.required],
    ['synchronize', '__action__;loginEmail;pbxId;pbxShortNumber', 'upsert;a@example.com;DEMO-PBX-0001;', 'pbxShortNumber', C.required],
    ['rainbowvoice', '__action__;loginEmail;password;macAddress', 'upsert;a@example.com;;zz:bb:cc:dd:ee:ff', 'macAddress', C.invalidMacAddress],
    ['rainbowvoice', '__action__;loginEmail;password;shortNumber', 'detach;a@example.com;;', 'shortNumber', C.rvDetachWithoutShortNumber],
    ['rainbowvoice', '__action__;loginEmail;password;ddiE164Number', 'upsert;a@example.com;;12', 'ddiE164Number', C.invalidPhone],
  ]
  for (const [endpoint, header, line, column, code] of cases) {
    it(`${column} (${code}) on ${line.slice(0, 40)}`, async () => {
      const r = await parse(csv(header, line), endpoint)
      expect(r.errors).toHaveLength(1)
      expect(r.errors[0]).toMatchObject({ lineNumber: 2, column, code })
      expect(r.errors[0]?.message.startsWith(`${column}: `)).toBe(true)
      expect(r.rows[0]?.valid).toBe(false)
    })
  }

  it('reports every error of every line, never the password', async () => {
    const r = await parse(csv(
      '__action__;loginEmail;password;country;language;businessPhone0;isInitialized',
      'create;bad;Short1!;XXX;english;0612345678;perhaps',
      'create;ok@example.com;Valid1!pass;FRA;fr;0612345678;YES',
      'create;c@example.com;nodigits!A;;;;',
      'create;d@;;FRA;;+33 12;'
    ))
    expect(r.errors.map((e) => [e.lineNumber, e.column, e.code])).toEqual([
      [2, 'loginEmail', C.invalidEmail],
      [2, 'password', C.passwordPolicy],
      [2, 'country', C.invalidCountry],
      [2, 'language', C.invalidLanguage],
      [2, 'isInitialized', C.invalidBoolean],
      [4, 'password', C.passwordPolicy],
      [5, 'loginEmail', C.invalidEmail],
      [5, 'businessPhone0', C.invalidPhone],
    ])
    expect(JSON.stringify(r.errors)).not.toMatch(/Short1!|nodigits!A/)
    expect(r.rows[1]?.values).toMatchObject({ country: 'FRA', businessPhones: ['+33612345678'], isInitialized: true })
  })
})
