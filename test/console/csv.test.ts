import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { csvCell, rawValue, resultsCsv, retryCsv, splitLine, type ReportLine } from '../../console/src/csv.js'
import { revertAllowed } from '../../console/src/revert.js'
import { csvCell as clientCell, reportCsvHeader, reportCsvLine } from '../../src/client/report-csv.js'

const line = fc.record({
  lineNumber: fc.integer({ min: 2, max: 100_000 }),
  action: fc.constantFrom('create', 'update', 'delete', 'upsert', 'sync', 'detach'),
  loginEmail: fc.string(),
  status: fc.constantFrom('success', 'failed', 'warning'),
  errorCode: fc.option(fc.integer({ min: 1000, max: 999_999 }), { nil: undefined }),
  errorMsg: fc.option(fc.string(), { nil: undefined }),
})

describe('the console\'s results CSV', () => {
  it('escapes a cell exactly as massprov-client does, formula characters included', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom('=1+1', '+33', '-2', '@SUM(A1)', '\tx', '\rx', 'a,b', 'say "hi"')), (s) => {
      expect(csvCell(s)).toBe(clientCell(s))
    }))
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"')
    expect(csvCell('-1')).toBe("'-1")
    expect(csvCell('plain')).toBe('plain')
  })

  it('is the client\'s `report --csv` file: the same header, one line per input line in line order', () => {
    fc.assert(fc.property(fc.uniqueArray(line, { selector: (l) => l.lineNumber, maxLength: 30 }), (report: ReportLine[]) => {
      const sorted = [...report].sort((a, b) => a.lineNumber - b.lineNumber)
      expect(resultsCsv(report)).toBe([reportCsvHeader(), ...sorted.map(reportCsvLine)].join('\n') + '\n')
    }))
  })
})

describe('raw values of a checked file', () => {
  const file = '__action__;loginEmail;password;firstName\ncreate;"a;b@x.com";Secret-1!;Ann\ncreate;c@x.com;;"Say ""hi"""\n'

  it('reads quoted values and masks passwords, alone or in the whole line', () => {
    expect(splitLine('a;"b;c";"d""e"', ';')).toEqual(['a', 'b;c', 'd"e'])
    expect(rawValue(file, 2, 'loginEmail')).toBe('a;b@x.com')
    expect(rawValue(file, 2, 'password')).toBe('••••••')
    expect(rawValue(file, 2, undefined)).toBe('create;a;b@x.com;••••••;Ann')
    expect(rawValue(file, 3, 'password')).toBe('')
    expect(rawValue(file, 3, 'firstName')).toBe('Say "hi"')
    expect(rawValue(file, 9, 'firstName')).toBe('')
  })
})

describe('retrying the failed lines', () => {
  const report: ReportLine[] = [
    { lineNumber: 2, action: 'create', loginEmail: 'a@x.com', status: 'success' },
    { lineNumber: 3, action: 'update', loginEmail: 'b@x.com', status: 'failed', errorCode: 3101 },
    { lineNumber: 4, action: 'delete', loginEmail: 'c;d@x.com', status: 'failed', errorCode: 3101 },
  ]

  it('takes the lines from the original file under its header', () => {
    const original = '__action__;loginEmail;jobTitle\r\ncreate;a@x.com;A\r\nupdate;b@x.com;B\r\ndelete;c@x.com;\r\n'
    expect(retryCsv([3, 4], original, report)).toBe('__action__;loginEmail;jobTitle\nupdate;b@x.com;B\ndelete;c@x.com;\n')
  })

  it('falls back to the action and login of the report when the file is gone', () => {
    expect(retryCsv([3, 4], undefined, report)).toBe('__action__;loginEmail\nupdate;b@x.com\ndelete;"c;d@x.com"\n')
  })
})

describe('the Revert button', () => {
  it('is offered for an ended import that was not reverted, never for a Pending or reverted one', () => {
    expect(revertAllowed({ status: 'Terminated', revertedBy: null })).toBe(true)
    expect(revertAllowed({ status: 'Failed' })).toBe(true)
    expect(revertAllowed({ status: 'Cancelled', revertedBy: undefined })).toBe(true)
    expect(revertAllowed({ status: 'Pending', revertedBy: null })).toBe(false)
    expect(revertAllowed({ status: 'Terminated', revertedBy: 'a'.repeat(64) })).toBe(false)
  })
})
