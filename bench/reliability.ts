/**
 * `npm run reliability [-- --row ID[,ID…]] [--load] [--load-seconds N]`: runs the fault, bad-input,
 * auth and limit tests with vitest's JSON reporter (CI=true, PostgreSQL and Redis as .ci/run sets
 * them), optionally the load benchmark, and prints the reliability table in Markdown on stdout
 * (the table of docs/reliability.md, pasted there by hand).
 * Progress goes to stderr. Exits 1 when a row failed or did not run, or any test of its files failed.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { VITEST_ROWS } from './reliability-rows.js'
import { loadRow, renderTable, vitestArgs, vitestCommand, vitestRow, type TableRow, type VitestReport, type VitestRowSpec } from './reliability-table.js'

const ROOT = new URL('../', import.meta.url).pathname
const LOAD = { connections: 200, lines: 1000 }
const USAGE = 'usage: npm run reliability -- [--row ID[,ID...]] [--load] [--load-seconds N]'

interface Options { rows: VitestRowSpec[], load: boolean, loadSeconds: number }

function parseArgs (args: string[]): Options {
  const options: Options = { rows: VITEST_ROWS, load: false, loadSeconds: 10 }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--load') {
      options.load = true
    } else if (arg === '--load-seconds') {
      options.loadSeconds = Number(args[++i])
      if (!Number.isInteger(options.loadSeconds) || options.loadSeconds < 1) throw new Error(`--load-seconds needs a positive integer; ${USAGE}`)
    } else if (arg === '--row') {
      const ids = (args[++i] ?? '').split(',')
      const known = [...VITEST_ROWS.map((r) => r.id), 'load']
      const bad = ids.filter((id) => !known.includes(id))
      if (bad.length > 0) throw new Error(`unknown row ${bad.join(', ')}; rows: ${known.join(', ')}`)
      options.rows = VITEST_ROWS.filter((r) => ids.includes(r.id))
      options.load ||= ids.includes('load')
    } else {
      throw new Error(`unknown argument ${arg}; ${USAGE}`)
    }
  }
  return options
}

function run (command: string, args: string[], env: NodeJS.ProcessEnv, capture: boolean): Promise<{ code: number | null, stdout: string }> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', capture ? 'pipe' : process.stderr, process.stderr] })
  let stdout = ''
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s
    process.stderr.write(s)
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })))
}

async function vitestRows (rows: VitestRowSpec[], env: NodeJS.ProcessEnv): Promise<{ rows: TableRow[], report: VitestReport }> {
  const dir = mkdtempSync(join(tmpdir(), 'massprov-reliability-'))
  try {
    const out = join(dir, 'vitest.json')
    await run(join(ROOT, 'node_modules/.bin/vitest'), ['run', ...vitestArgs(rows), '--reporter=dot', '--reporter=json', `--outputFile=${out}`], env, false)
    const report = JSON.parse(readFileSync(out, 'utf8')) as VitestReport
    return { rows: rows.map((r) => vitestRow(report, r)), report }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function benchLoad (seconds: number, env: NodeJS.ProcessEnv): Promise<TableRow> {
  const args = ['load', '--seconds', String(seconds), '--connections', String(LOAD.connections), '--lines', String(LOAD.lines)]
  const { code, stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], env, true)
  return loadRow({ seconds, ...LOAD, stdout, exitCode: code })
}

const loadNow = () => loadavg().map((l) => l.toFixed(2)).join(' ')

async function main (): Promise<number> {
  const options = parseArgs(process.argv.slice(2))
  const env = {
    ...process.env,
    CI: 'true',
    DATABASE_URL: process.env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test',
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  }
  const started = new Date()
  const loadBefore = loadNow()
  const rows: TableRow[] = []
  let tests = ''
  let failed = 0
  if (options.rows.length > 0) {
    const result = await vitestRows(options.rows, env)
    rows.push(...result.rows)
    const all = result.report.testResults.flatMap((f) => f.assertionResults)
    const count = (status: string) => all.filter((t) => t.status === status).length
    failed = count('failed')
    tests = `; vitest: ${count('passed')} passed, ${count('failed')} failed, ${all.length - count('passed') - count('failed')} not run, in ${result.report.testResults.length} files`
  }
  if (options.load) rows.push(await benchLoad(options.loadSeconds, env))

  const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1)
  console.log(renderTable(rows))
  console.log()
  console.log(`Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} min, ${cpus().length} cores, load average (1/5/15 min) ${loadBefore} at the start and ${loadNow()} at the end${tests}.`)
  console.log()
  console.log('Each row runs (with CI=true and DATABASE_URL, REDIS_URL as .ci/run sets them):')
  for (const r of options.rows) console.log(`- \`${r.id}\`: \`${vitestCommand(r)}\``)
  if (options.load) console.log(`- \`load\`: \`npm run bench -- load --seconds ${options.loadSeconds} --connections ${LOAD.connections} --lines ${LOAD.lines}\``)
  return rows.every((r) => r.ok) && failed === 0 ? 0 : 1
}

try {
  process.exitCode = await main()
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 2
}
