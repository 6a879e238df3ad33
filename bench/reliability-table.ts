/**
 * The reliability table (issue 6 point 6): rows read from vitest's JSON report, where the tests put
 * what they measured in `task.meta.reliability`, and from the BENCH lines of the load benchmark.
 */

export type Figures = Record<string, number | boolean>

/** The part of vitest's JSON report the table reads. */
export interface VitestReport {
  testResults: Array<{
    name: string
    assertionResults: Array<{ ancestorTitles: string[], fullName: string, status: string, meta?: { reliability?: Figures } }>
  }>
}

export interface TestOutcome { suite: string, name: string, passed: boolean, figures: Figures }

export interface VitestRowSpec {
  id: string
  kind: string
  tried: string
  files: string[]
  /** As vitest's `-t`: a regular expression on "describe … test" names; every test of the files when absent. */
  pattern?: string
  figures: (tests: TestOutcome[]) => string
}

/** The vitest arguments for these rows: their files, and `-t` only when every row names its tests. */
export function vitestArgs (rows: VitestRowSpec[]): string[] {
  const files = [...new Set(rows.flatMap((r) => r.files))]
  const patterns = rows.map((r) => r.pattern)
  return patterns.every((p) => p !== undefined) ? [...files, '-t', patterns.map((p) => rows.length > 1 ? `(${p})` : p).join('|')] : files
}

const shellWord = (s: string) => /^[\w./=-]+$/.test(s) ? s : `"${s.replaceAll(/(["\\$`])/g, '\\$1')}"`

export const vitestCommand = (row: VitestRowSpec) => `npx vitest run ${vitestArgs([row]).map(shellWord).join(' ')}`

export interface TableRow { kind: string, tried: string, figures: string, result: string, ok: boolean, command: string }

/** The tests of `spec` in the report: those of its files whose full name matches its pattern. */
export function outcomesOf (report: VitestReport, spec: VitestRowSpec): { ran: TestOutcome[], skipped: number } {
  const pattern = spec.pattern === undefined ? undefined : new RegExp(spec.pattern)
  const tests = report.testResults
    .filter((f) => spec.files.some((file) => f.name.endsWith(`/${file}`)))
    .flatMap((f) => f.assertionResults)
    .filter((t) => pattern === undefined || pattern.test(t.fullName))
  const ran = tests.filter((t) => t.status === 'passed' || t.status === 'failed')
  return {
    ran: ran.map((t) => ({ suite: t.ancestorTitles.join(' > '), name: t.fullName, passed: t.status === 'passed', figures: t.meta?.reliability ?? {} })),
    skipped: tests.length - ran.length,
  }
}

export function vitestRow (report: VitestReport, spec: VitestRowSpec): TableRow {
  const { ran, skipped } = outcomesOf(report, spec)
  const passed = ran.filter((t) => t.passed).length
  const ok = ran.length > 0 && skipped === 0 && passed === ran.length
  let result = `${passed}/${ran.length} passed`
  if (ran.length === 0) result = 'not run'
  if (skipped > 0) result += `, ${skipped} skipped`
  return {
    kind: spec.kind,
    tried: spec.tried,
    figures: ran.length > 0 ? spec.figures(ran) : '—',
    result: ok ? result : `**${result}**`,
    ok,
    command: `npm run reliability -- --row ${spec.id}`,
  }
}

/** The sum of a figure over the tests, or undefined when a test did not report it (it failed first). */
export function total (tests: TestOutcome[], key: string): number | undefined {
  let sum = 0
  for (const t of tests) {
    const v = t.figures[key]
    if (typeof v !== 'number') return undefined
    sum += v
  }
  return sum
}

export function most (tests: TestOutcome[], key: string): number | undefined {
  const values = tests.map((t) => t.figures[key])
  return values.every((v) => typeof v === 'number') && values.length > 0 ? Math.max(...(values as number[])) : undefined
}

/** A figure for a table cell: `?` when it is missing. */
export const fig = (v: number | undefined) => v === undefined ? '?' : v.toLocaleString('en-US')
export const secs = (ms: number | undefined) => ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`

export interface BenchLine { bench: string, metric: string, value: string, target?: string, verdict?: 'PASS' | 'MISS' }

/** `BENCH <name> <metric>=<value> (target<op><value> PASS|MISS | info)`, as bench/run.ts documents. */
export function benchLines (stdout: string): BenchLine[] {
  const lines: BenchLine[] = []
  for (const line of stdout.split('\n')) {
    const m = /^BENCH (\S+) (\w+)=(\S+) (?:(target\S+) (PASS|MISS)|info)$/.exec(line.trim())
    if (!m) continue
    const [, bench, metric, value, target, verdict] = m as unknown as [string, string, string, string, string | undefined, 'PASS' | 'MISS' | undefined]
    lines.push({ bench, metric, value, ...(target === undefined ? {} : { target, verdict }) })
  }
  return lines
}

export interface LoadRowInput { seconds: number, connections: number, lines: number, stdout: string, exitCode: number | null }

export function loadRow ({ seconds, connections, lines, stdout, exitCode }: LoadRowInput): TableRow {
  const bench = benchLines(stdout).filter((l) => l.bench === 'load')
  const value = (metric: string) => bench.find((l) => l.metric === metric)?.value ?? '?'
  const targets = bench.filter((l) => l.verdict !== undefined)
  const missed = targets.filter((l) => l.verdict === 'MISS').map((l) => `${l.metric}=${l.value} (${l.target})`)
  const ok = exitCode === 0 && targets.length > 0 && missed.length === 0
  let result = `targets met ${targets.length - missed.length}/${targets.length}`
  if (targets.length === 0) result = `not run (exit ${exitCode})`
  else if (missed.length > 0) result = `missed: ${missed.join(', ')}`
  return {
    kind: 'Load',
    tried: `${connections} clients POSTing a ${lines.toLocaleString('en-US')}-line check for ${seconds} s (autocannon, embedded server), /health probed meanwhile`,
    figures: `${value('check_answers')} checks answered, ${value('refused')} of them 429/503; ${value('server_errors')} other 5xx, ${value('unexpected_answers')} unexpected answers; ` +
      `check p99 ${value('check_p99_ms')} ms; /health p99 ${value('health_p99_ms')} ms over ${value('health_probes')} probes`,
    result: ok ? result : `**${result}**`,
    ok,
    command: `npm run reliability -- --row load --load-seconds ${seconds}`,
  }
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

export function renderTable (rows: TableRow[]): string {
  return [
    '| Kind | Injected or tried | Figures from the run | Result | Reproduce this row |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.kind)} | ${cell(r.tried)} | ${cell(r.figures)} | ${cell(r.result)} | \`${r.command}\` |`),
  ].join('\n')
}
