import { describe, expect, it } from 'vitest'
import {
  benchLines, loadRow, renderTable, total, vitestArgs, vitestCommand, vitestRow, type VitestReport, type VitestRowSpec,
} from '../../bench/reliability-table.js'

const test = (suite: string, title: string, status: string, reliability?: Record<string, number>) =>
  ({ ancestorTitles: [suite], fullName: `${suite} ${title}`, status, meta: reliability ? { reliability } : {} })

const REPORT: VitestReport = {
  testResults: [
    {
      name: '/repo/test/e2e/workers.test.ts',
      assertionResults: [
        test('workers on pg', 'kill -9 mid-import', 'passed', { lines: 600, appliedOnce: 600, recoveryMs: 12_000 }),
        test('workers on redis', 'kill -9 mid-import', 'passed', { lines: 600, appliedOnce: 599, recoveryMs: 15_500 }),
        test('workers on pg', 'SIGTERM', 'failed'),
        test('workers on redis', 'SIGTERM', 'passed', { exitMs: 40 }),
        test('workers on pg', 'ordering', 'skipped'),
      ],
    },
    { name: '/repo/test/other/workers.test.ts', assertionResults: [test('elsewhere', 'kill -9 mid-import', 'passed', { lines: 1 })] },
  ],
}

const spec = (over: Partial<VitestRowSpec>): VitestRowSpec => ({
  id: 'row', kind: 'Fault', tried: 'tried', files: ['test/e2e/workers.test.ts'], figures: (t) => `lines ${total(t, 'lines') ?? '?'}`, ...over,
})

describe('reliability table', () => {
  it('a row reads the tests of its files whose full name matches its pattern, and the figures they reported', () => {
    const row = vitestRow(REPORT, spec({ pattern: 'kill -9', figures: (t) => `${total(t, 'appliedOnce')}/${total(t, 'lines')} in ${t.map((x) => x.suite).join(', ')}` }))
    expect(row).toEqual({
      kind: 'Fault', tried: 'tried', figures: '1199/1200 in workers on pg, workers on redis', result: '2/2 passed', ok: true, command: 'npm run reliability -- --row row',
    })
  })

  it('a failed test fails the row, and a figure it did not report shows as missing', () => {
    const row = vitestRow(REPORT, spec({ pattern: 'SIGTERM' }))
    expect(row).toMatchObject({ figures: 'lines ?', result: '**1/2 passed**', ok: false })
  })

  it('a skipped test, or no test at all, is not a pass', () => {
    expect(vitestRow(REPORT, spec({ pattern: 'ordering' }))).toMatchObject({ figures: '—', result: '**not run, 1 skipped**', ok: false })
    expect(vitestRow(REPORT, spec({ pattern: 'nothing like this' }))).toMatchObject({ result: '**not run**', ok: false })
    expect(vitestRow(REPORT, spec({}))).toMatchObject({ result: '**3/4 passed, 1 skipped**', ok: false })
  })

  it('vitest runs the rows\' files, with -t only when every row names its tests', () => {
    const a = spec({ pattern: 'on pg kill -9' })
    const b = spec({ files: ['test/x.test.ts'], pattern: 'SIGTERM' })
    expect(vitestArgs([a, b])).toEqual(['test/e2e/workers.test.ts', 'test/x.test.ts', '-t', '(on pg kill -9)|(SIGTERM)'])
    expect(vitestArgs([a, spec({ files: ['test/x.test.ts'] })])).toEqual(['test/e2e/workers.test.ts', 'test/x.test.ts'])
    expect(vitestCommand(spec({ pattern: 'caps (one|two) "x"' }))).toBe('npx vitest run test/e2e/workers.test.ts -t "caps (one|two) \\"x\\""')
  })

  it('the load row reads the BENCH lines: figures, then PASS only when every target is met', () => {
    const stdout = [
      'load: 200 clients, 10 s',
      'BENCH load check_answers=5400 info',
      'BENCH load refused=5000 info',
      'BENCH load check_p99_ms=900 info',
      'BENCH load health_probes=700 info',
      'BENCH load server_errors=0 target<=0 PASS',
      'BENCH load unexpected_answers=0 target<=0 PASS',
      'BENCH load health_p99_ms=61.5 target<=50 MISS',
    ].join('\n')
    expect(benchLines(stdout)).toHaveLength(7)
    expect(benchLines(stdout)[6]).toEqual({ bench: 'load', metric: 'health_p99_ms', value: '61.5', target: 'target<=50', verdict: 'MISS' })
    const missed = loadRow({ seconds: 10, connections: 200, lines: 1000, stdout, exitCode: 0 })
    expect(missed).toMatchObject({ ok: false, result: '**missed: health_p99_ms=61.5 (target<=50)**' })
    expect(missed.figures).toBe('5400 checks answered, 5000 of them 429/503; 0 other 5xx, 0 unexpected answers; check p99 900 ms; /health p99 61.5 ms over 700 probes')
    expect(loadRow({ seconds: 10, connections: 200, lines: 1000, stdout: stdout.replace('MISS', 'PASS').replace('target<=50', 'target<=90'), exitCode: 0 }))
      .toMatchObject({ ok: true, result: 'targets met 3/3', command: 'npm run reliability -- --row load --load-seconds 10' })
    expect(loadRow({ seconds: 10, connections: 200, lines: 1000, stdout: 'Error: boom', exitCode: 1 })).toMatchObject({ ok: false, result: '**not run (exit 1)**' })
  })

  it('renders one Markdown row per row, pipes escaped, with the command that reproduces it', () => {
    const md = renderTable([{ kind: 'Limits', tried: 'a | b', figures: 'f', result: '1/1 passed', ok: true, command: 'npm run reliability -- --row limit-checks' }])
    expect(md.split('\n')).toEqual([
      '| Kind | Injected or tried | Figures from the run | Result | Reproduce this row |',
      '|---|---|---|---|---|',
      '| Limits | a \\| b | f | 1/1 passed | `npm run reliability -- --row limit-checks` |',
    ])
  })
})
