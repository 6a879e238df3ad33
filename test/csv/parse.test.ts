import { describe, expect, it } from 'vitest'
import type { CsvRow, LineError } from '../../src/csv/types.js'
import { USER_HEADER, csv, fileErrorOf, fixture, parse } from './helpers.js'

describe('parseCsv', () => {
  it('accepts the 2018 user template verbatim (49123456789 with DEU is +49123456789: the calling code is not doubled)', async () => {
    const r = await parse(fixture('user-template-2018.csv'))
    expect(r).toMatchObject({ delimiter: ';', columns: 14, mode: 'user', dataLines: 3, errors: [] })
    expect(r.rows.map((x) => [x.lineNumber, x.action, x.loginEmail, x.valid])).toEqual([
      [2, 'create', 'alice.johns@company.com', true],
      [3, 'update', 'eric.lasalle@company.com', true],
      [4, 'delete', 'carol.jenkins@company.com', true],
    ])
    expect(r.rows[0]?.values).toEqual({
      password: 'AzertY10*',
      title: 'Mrs',
      firstName: 'Alice',
      lastName: 'Johns',
      nickName: 'alicej',
      jobTitle: 'Logistic',
      country: 'DEU',
      language: 'de-DE',
      timezone: 'Europe/Berlin',
      businessPhones: ['+49123456789'],
      mobilePhones: ['+4998765432'],
      emails: ['alice.johns@company.com'],
    })
    // Empty cells are null (update ignores them, sync clears them); an empty indexed cell is '' at its index.
    expect(r.rows[1]?.values).toMatchObject({ jobTitle: 'Tech Support', firstName: null, businessPhones: [''] })
  })

  it('reads an empty __action__ as create in a user file (the seed: "create (by default)"), and only there', async () => {
    const r = await parse(csv(USER_HEADER, ';a@example.com;;Ann;A', ' ;b@example.com;;Bob;B', 'update;c@example.com;;;C'))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => [x.lineNumber, x.action, x.valid])).toEqual([[2, 'create', true], [3, 'create', true], [4, 'update', true]])
    expect(r.rows[0]?.values).toMatchObject({ firstName: 'Ann' })
    expect(await fileErrorOf(parse(csv('__action__;loginEmail', ';a@example.com'), 'synchronize'))).toMatchObject({ code: 400506, line: 2 })
  })

  it('accepts the SDK Rainbow Voice sample verbatim (padded values, quoted services)', async () => {
    const r = await parse(fixture('rainbowvoice-sdk-sample.csv'), 'rainbowvoice')
    expect(r.errors).toEqual([])
    expect(r.mode).toBe('rainbowvoice')
    expect(r.header[1]).toBe('loginEmail')
    expect(r.rows[3]?.values).toMatchObject({ shortNumber: '81023', macAddress: 'aa:bb:cc:dd:ee:13', ddiE164Number: '+33298300513', services: ['Enterprise Demo', 'Voice Enterprise 3-Year prepaid'] })
  })

  it('normalises a Rainbow Voice line: MAC addresses in every common notation, a DDI without + read as international, a short number with a leading zero kept as text', async () => {
    const header = '__action__;loginEmail;password;shortNumber;macAddress;ddiE164Number'
    const r = await parse(csv(header,
      'upsert;a@example.com;;0123;aa-bb-cc-dd-ee-01;33298300501',
      'upsert;b@example.com;;8001;AABB.CCDD.EE02;+33 2 98 30 05 02',
      'upsert;c@example.com;;8002;AA:BB:CC:DD:EE:03;',
      'upsert;d@example.com;;8003;aabbccddee04;'), 'rainbowvoice')
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => [x.values.shortNumber, x.values.macAddress, x.values.ddiE164Number])).toEqual([
      ['0123', 'aa:bb:cc:dd:ee:01', '+33298300501'],
      ['8001', 'aa:bb:cc:dd:ee:02', '+33298300502'],
      ['8002', 'aa:bb:cc:dd:ee:03', null],
      ['8003', 'aa:bb:cc:dd:ee:04', null],
    ])
  })

  it('refuses a malformed Rainbow Voice cell with its column: MAC (3019), short number (3021), DDI (3012)', async () => {
    const header = '__action__;loginEmail;password;shortNumber;macAddress;ddiE164Number'
    const r = await parse(csv(header,
      'upsert;a@example.com;;8001;aa:bb:cc:dd:ee;',
      'upsert;b@example.com;;8002;aabb.ccdd;',
      'upsert;c@example.com;;80-01;;',
      'upsert;d@example.com;;8004;;+33 12'), 'rainbowvoice')
    expect(r.errors.map((e) => [e.lineNumber, e.column, e.code])).toEqual([
      [2, 'macAddress', 3019], [3, 'macAddress', 3019], [4, 'shortNumber', 3021], [5, 'ddiE164Number', 3012],
    ])
  })

  describe('mode (D4)', () => {
    it('is user on /users/imports without device columns, device with one', async () => {
      expect((await parse(csv('__action__;loginEmail', 'delete;a@example.com'))).mode).toBe('user')
      const device = await parse(csv('__action__;loginEmail;pbxShortNumber', 'attach;a@example.com;1000'))
      expect(device.mode).toBe('device')
      expect(device.rows[0]?.values).toEqual({ pbxShortNumber: '1000' })
    })

    it('is useranddevice on synchronize and rainbowvoice on the Rainbow Voice endpoints', async () => {
      expect((await parse(csv('__action__;loginEmail', 'sync;a@example.com'), 'synchronize')).mode).toBe('useranddevice')
      expect((await parse(csv('__action__;loginEmail;password', 'delete;a@example.com;'), 'rainbowvoice')).mode).toBe('rainbowvoice')
    })

    it('refuses user columns in a device file, pointing to synchronize', async () => {
      const e = await fileErrorOf(parse(csv('__action__;loginEmail;firstName;pbxShortNumber', 'attach;a@example.com;Ann;1000')))
      expect(e).toMatchObject({ status: 400, code: 400502, line: 1 })
      expect(e.details).toMatch(/"firstName" \(not a device column\).*synchronize/)
    })

    it('accepts the hidden ldap_id only on synchronize', async () => {
      const r = await parse(csv('__action__;loginEmail;ldap_id', 'upsert;a@example.com;6f1c0a2e-guid'), 'synchronize')
      expect(r.rows[0]?.values).toEqual({ ldapId: '6f1c0a2e-guid' })
      expect(await fileErrorOf(parse(csv('__action__;loginEmail;ldap_id', 'create;a@example.com;x')))).toMatchObject({ code: 400502 })
    })
  })

  it('gathers indexed columns by index: an empty cell is \'\', an index the header lacks is null', async () => {
    const r = await parse(csv('__action__;loginEmail;tags1;tags0;email1;email0;service0;mobilePhone3', 'create;a@example.com;b;a;;Home@Example.org;Gold;+33601020304'))
    expect(r.rows[0]?.values).toEqual({ tags: ['a', 'b'], emails: ['home@example.org', ''], services: ['Gold'], mobilePhones: [null, null, null, '+33601020304'] })
  })

  it('blanks the password cell in raw, keeping the rest of the line as written', async () => {
    const r = await parse(csv(USER_HEADER, 'create;a@example.com;"Pa;ss""w0rd!" ;Ann;Lee', 'create ; b@example.com ; Secr3t!pw ; Bo;Li', 'create;c@example.com;;Cy;Wu'))
    expect(r.errors).toEqual([])
    expect(r.rows.map((x) => x.raw)).toEqual(['create;a@example.com;;Ann;Lee', 'create ; b@example.com ;; Bo;Li', 'create;c@example.com;;Cy;Wu'])
    expect(r.rows.map((x) => x.values.password)).toEqual(['Pa;ss"w0rd!', 'Secr3t!pw', null])
  })

  it('blanks every cell the password may have shifted to on a line with the wrong number of fields', async () => {
    const r = await parse(csv(USER_HEADER, 'create;a@example.com;x;Secr3t!pw;Bo;Li', 'create;b@example.com;Secr3t!pw'))
    expect(r.rows.map((x) => x.raw)).toEqual(['create;;;;Bo;Li', ';;'])
    expect(r.errors.map((e) => e.code)).toEqual([3001, 3001])
  })

  it('keeps formula-like cells as data (no stripping); they only fail a format', async () => {
    const r = await parse(csv('__action__;loginEmail;firstName;lastName;nickName;jobTitle;country', 'create;a@example.com;=SUM(A1);+cmd|calc;@x;-2+3;=FRA'))
    expect(r.rows[0]).toMatchObject({ valid: false, values: {} })
    expect(r.errors).toEqual([{ lineNumber: 2, column: 'country', code: 3014, message: 'country: must be an ISO 3166-1 alpha-3 country code (e.g. FRA)' }])
    const ok = await parse(csv('__action__;loginEmail;firstName;lastName;nickName;jobTitle', 'create;a@example.com;=SUM(A1);+cmd|calc;@x;-2+3'), 'import', { delimiter: ';' })
    expect(ok.rows[0]?.values).toEqual({ firstName: '=SUM(A1)', lastName: '+cmd|calc', nickName: '@x', jobTitle: '-2+3' })
  })

  it('streams rows and errors to onRows, leaving them out of the result', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `create;user${i}@example.com;${i % 1000 === 0 ? 'weak' : ''};First${i};Last${i}`)
    const text = csv(USER_HEADER, ...lines)
    const whole = await parse(text)
    const rows: CsvRow[] = []
    const errors: LineError[] = []
    let calls = 0
    const streamed = await parse(text, 'import', {
      onRows: async (r, e) => {
        calls++
        rows.push(...r)
        errors.push(...e)
        await new Promise((resolve) => setImmediate(resolve))
      },
    })
    expect(calls).toBeGreaterThan(1)
    expect(streamed).toMatchObject({ rows: [], errors: [], dataLines: 3000 })
    expect(rows).toEqual(whole.rows)
    expect(errors).toEqual(whole.errors)
    expect(errors.map((e) => e.lineNumber)).toEqual([2, 1002, 2002])
  })

  it('yields to the event loop while it works', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `create;user${i}@example.com;Passw0rd!${i};First${i};Last${i}`)
    const text = csv(USER_HEADER, ...lines)
    let ticks = 0
    let running = true
    const tick = () => {
      ticks++
      if (running) setImmediate(tick)
    }
    setImmediate(tick)
    const r = await parse(text, 'import', { budgetMs: 5 })
    running = false
    expect(r.rows).toHaveLength(20_000)
    // Counted, not timed: a parse that never yields lets the loop turn once; 20,000 rows take well
    // over three 5 ms budgets on any machine this runs on.
    expect(ticks).toBeGreaterThan(3)
  })
})
