import { describe, expect, it } from 'vitest'
import { USER_HEADER, csv, fileErrorOf, parse } from './helpers.js'

describe('file-level errors (400, contract §6 codes, line in errorDetails)', () => {
  describe('structure (400501)', () => {
    it('an unterminated quote, with the line it opens on', async () => {
      const e = await fileErrorOf(parse(csv(USER_HEADER, 'create;a@example.com;;Ann;Lee', '% note', 'create;b@example.com;;"Bo;Li', 'create;c@example.com;;Cy;Wu')))
      expect(e).toMatchObject({ status: 400, code: 400501, line: 4 })
      expect(e.details).toMatch(/unterminated quote/)
    })

    it('text after a closing quote', async () => {
      const e = await fileErrorOf(parse(csv(USER_HEADER, 'create;a@example.com;;"Ann"x;Lee')))
      expect(e).toMatchObject({ status: 400, code: 400501, line: 2 })
    })

    it('an unterminated quote far into a large file is found without reading it as one field', async () => {
      const lines = Array.from({ length: 5000 }, (_, i) => `create;u${i}@example.com;;A;B`)
      const e = await fileErrorOf(parse(csv(USER_HEADER, ...lines, 'create;x@example.com;;"open;B', ...lines)))
      expect(e).toMatchObject({ status: 400, code: 400501, line: 5002 })
    })
  })

  describe('header (400502)', () => {
    it('duplicated columns, which papaparse would rename silently', async () => {
      const e = await fileErrorOf(parse(csv('__action__;loginEmail;firstName;lastName;firstName', 'create;a@example.com;A;B;C')))
      expect(e).toMatchObject({ status: 400, code: 400502, line: 1 })
      expect(e.details).toBe('Line 1: duplicated column "firstName" (columns 3, 5)')
    })

    it('unknown columns, all of them, with a case hint', async () => {
      const e = await fileErrorOf(parse(csv('% header below', '__action__;loginemail;loginEmail;nickname;colour', 'create;a;a@example.com;b;c')))
      expect(e).toMatchObject({ status: 400, code: 400502, line: 2 })
      expect(e.details).toMatch(/^Line 2: unknown columns "loginemail" \(did you mean loginEmail\?.*"nickname" \(did you mean nickName\?.*"colour"/)
    })

    it('indexed columns out of range or with a leading zero are unknown', async () => {
      for (const name of ['tags5', 'businessPhone01', 'email']) {
        expect(await fileErrorOf(parse(csv(`__action__;loginEmail;${name}`, 'create;a@example.com;x'))), name).toMatchObject({ code: 400502, line: 1 })
      }
    })

    it('a malformed header: a column without a name', async () => {
      const e = await fileErrorOf(parse(csv('__action__;loginEmail;', 'create;a@example.com;')))
      expect(e).toMatchObject({ status: 400, code: 400502, line: 1 })
      expect(e.details).toMatch(/column 3 has no name/)
    })

    it('a mandatory column missing', async () => {
      const e = await fileErrorOf(parse(csv('__action__;firstName', 'create;Ann')))
      expect(e).toMatchObject({ status: 400, code: 400502, line: 1 })
      expect(e.details).toBe('Line 1: missing mandatory column loginEmail (user mode)')
      const rv = await fileErrorOf(parse(csv('__action__;loginEmail', 'delete;a@example.com'), 'rainbowvoice'))
      expect(rv.details).toBe('Line 1: missing mandatory column password (rainbowvoice mode)')
    })

    it('never quotes a header name that is not name-like', async () => {
      const e = await fileErrorOf(parse(csv('__action__;loginEmail;S3cr3t!Pw', 'create;a@example.com;x')))
      expect(e.details).toMatch(/column 3 \(its name has unexpected characters\)/)
      expect(e.details).not.toContain('S3cr3t')
    })
  })

  describe('no data (400508)', () => {
    it('an empty body, a body of comments, a header alone', async () => {
      expect(await fileErrorOf(parse(Buffer.alloc(0)))).toMatchObject({ status: 400, code: 400508, line: undefined })
      expect(await fileErrorOf(parse(''))).toMatchObject({ status: 400, code: 400508 })
      expect(await fileErrorOf(parse(csv('% only', '', '% comments')))).toMatchObject({ status: 400, code: 400508 })
      expect(await fileErrorOf(parse(csv('', USER_HEADER, '% nothing', ';;;;')))).toMatchObject({ status: 400, code: 400508, line: 2 })
    })
  })

  describe('limits (D8, 400504)', () => {
    it('a 100,000-column line is refused without holding much memory (its speed is measured by npm run bench)', async () => {
      const before = process.memoryUsage().heapUsed
      const e = await fileErrorOf(parse(`${USER_HEADER}\ncreate;a@example.com;;A;B${';x'.repeat(100_000)}\n`))
      expect(e).toMatchObject({ status: 400, code: 400504, line: 2 })
      expect(e.details).toMatch(/100005 fields, more than the limit of 200 columns/)
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024)
    })

    it('a 100,000-column header', async () => {
      const e = await fileErrorOf(parse(`__action__;loginEmail${';x'.repeat(100_000)}\ncreate;a@example.com\n`))
      expect(e).toMatchObject({ status: 400, code: 400504, line: 1 })
    })

    it('a line longer than any legal line is refused before it is split', async () => {
      const e = await fileErrorOf(parse(`${USER_HEADER}\n% c\ncreate;a@example.com;;"${'x'.repeat(2_000_000)}";B\n`))
      expect(e).toMatchObject({ status: 400, code: 400504, line: 3 })
    })

    it('a 5,000-character field, naming its column', async () => {
      const e = await fileErrorOf(parse(csv(USER_HEADER, 'create;a@example.com;;Ann;Lee', `create;b@example.com;;${'x'.repeat(5000)};Li`)))
      expect(e).toMatchObject({ status: 400, code: 400504, line: 3 })
      expect(e.details).toBe('Line 3: the value of column firstName is longer than 4096 characters')
    })

    it('limits are parameters: rows and columns', async () => {
      const rows = await fileErrorOf(parse(csv(USER_HEADER, 'delete;a@example.com;;;', '', 'delete;b@example.com;;;', 'delete;c@example.com;;;'), 'import', { limits: { maxRows: 2 } }))
      expect(rows).toMatchObject({ status: 400, code: 400504, line: 5 })
      const cols = await fileErrorOf(parse(csv(USER_HEADER, 'delete;a@example.com;;;'), 'import', { limits: { maxColumns: 4 } }))
      expect(cols).toMatchObject({ status: 400, code: 400504, line: 1 })
    })
  })

  describe('__action__ (400506)', () => {
    it('an invalid action, with its line', async () => {
      const e = await fileErrorOf(parse(csv(USER_HEADER, 'create;a@example.com;;A;B', 'crete;b@example.com;;A;B')))
      expect(e).toMatchObject({ status: 400, code: 400506, line: 3 })
      expect(e.details).toBe('Line 3: invalid __action__ "crete" in a user file: expected create, update, delete; attach, force_attach and detach need the device columns (pbxId, pbxShortNumber, pbxInternalNumber, number) in the header')
    })

    it('an empty action, an action of another mode, an action with odd characters (not echoed)', async () => {
      expect((await fileErrorOf(parse(csv('__action__;loginEmail;pbxShortNumber', ';a@example.com;1000')))).details).toMatch(/^Line 2: empty __action__ in a device file/)
      expect(await fileErrorOf(parse(csv('__action__;loginEmail;pbxShortNumber', 'create;a@example.com;1000')))).toMatchObject({ code: 400506, line: 2 })
      expect(await fileErrorOf(parse(csv('__action__;loginEmail', 'upsert;a@example.com')))).toMatchObject({ code: 400506, line: 2 })
      const odd = await fileErrorOf(parse(csv('__action__;loginEmail', 'Pa55w0rd!;a@example.com')))
      expect(odd.details).not.toContain('Pa55w0rd!')
    })

    it('is case-sensitive', async () => {
      expect(await fileErrorOf(parse(csv('__action__;loginEmail', 'Create;a@example.com')))).toMatchObject({ code: 400506, line: 2 })
    })
  })
})
