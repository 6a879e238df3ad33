/**
 * Load test (issue 6 point 5): a real server process on a fresh embedded data directory, `connections`
 * autocannon clients POSTing a 1,000-line CSV to /users/imports/check for `seconds`, and a separate
 * process polling GET /health meanwhile. Loopback only, bounded in time.
 * Pass: no 5xx other than the 503 of the check cap, no status besides 200/429/503, health p99 ≤ 50 ms.
 */
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCsv } from './csv-generate.js'

export interface LoadBenchOptions { seconds: number, connections: number, lines: number }

const TARGET_HEALTH_P99_MS = 50
const ROOT = new URL('../', import.meta.url).pathname

const PROBER = `
import { Agent, request } from 'node:http'
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const lat = []; let failures = 0; let stop = false
process.on('SIGTERM', () => { stop = true })
while (!stop) {
  const t = performance.now()
  await new Promise((resolve) => {
    const req = request(process.argv[1] + '/health', { agent }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode !== 200) failures++; resolve() }) })
    req.on('error', () => { failures++; resolve() }); req.end()
  })
  lat.push(performance.now() - t)
  await new Promise((r) => setTimeout(r, 5))
}
process.stdout.write(JSON.stringify({ lat, failures }))
`

async function startServer (dataDir: string) {
  const env = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '' }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = /massprov is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (code) => reject(new Error(`server exited (${code})`)))
  })
  return { child, url }
}

export async function runLoadBench (opts: LoadBenchOptions): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-load-'))
  const server = await startServer(dataDir)
  try {
    const creds = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as { loginEmail: string, password: string }
    const login = await fetch(`${server.url}/api/rainbow/authentication/v1.0/login`, {
      headers: { authorization: `Basic ${Buffer.from(`${creds.loginEmail}:${creds.password}`).toString('base64')}` },
    })
    const { token } = await login.json() as { token: string }
    const body = generateCsv({ lines: opts.lines, seed: 7 }).text
    console.log(`load: ${opts.connections} clients, ${opts.seconds} s, POST /users/imports/check with ${opts.lines} lines (${(body.length / 1024).toFixed(0)} KB); server ${server.url}`)

    const prober = spawn(process.execPath, ['--input-type=module', '-e', PROBER, server.url], { stdio: ['ignore', 'pipe', 'inherit'] })
    let probeOut = ''
    prober.stdout.setEncoding('utf8').on('data', (s: string) => { probeOut += s })
    const probed = new Promise<void>((resolve) => prober.on('close', () => resolve()))

    const statuses = new Map<number, number>()
    const result = await autocannon({
      url: `${server.url}/api/rainbow/massprovisioning/v1.0/users/imports/check`,
      method: 'POST',
      connections: opts.connections,
      duration: opts.seconds,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=utf-8' },
      body,
      timeout: 60,
      setupClient: (client) => { client.on('response', (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1)) },
    })
    prober.kill('SIGTERM')
    await probed
    const { lat, failures } = JSON.parse(probeOut) as { lat: number[], failures: number }
    const sorted = Float64Array.from(lat).sort()
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN

    const byStatus = Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0]))
    const other = [...statuses].filter(([s]) => s !== 200 && s !== 429 && s !== 503).reduce((n, [, c]) => n + c, 0) + result.errors + result.timeouts
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500 && s !== 503).reduce((n, [, c]) => n + c, 0)
    console.log(`check: ${result.requests.total} answers ${JSON.stringify(byStatus)}, socket errors ${result.errors}, timeouts ${result.timeouts}; ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`)
    console.log(`health: ${lat.length} probes (${failures} failed), p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${p(1).toFixed(1)} ms`)
    const verdict = (ok: boolean) => ok ? 'PASS' : 'MISS'
    console.log(`BENCH load check_answers=${[...statuses.values()].reduce((a, b) => a + b, 0)} info`)
    console.log(`BENCH load refused=${(statuses.get(429) ?? 0) + (statuses.get(503) ?? 0)} info`)
    console.log(`BENCH load check_p99_ms=${result.latency.p99} info`)
    console.log(`BENCH load health_probes=${lat.length} info`)
    console.log(`BENCH load server_errors=${fiveHundreds} target<=0 ${verdict(fiveHundreds === 0)}`)
    console.log(`BENCH load unexpected_answers=${other} target<=0 ${verdict(other === 0)}`)
    console.log(`BENCH load health_p99_ms=${p(0.99).toFixed(1)} target<=${TARGET_HEALTH_P99_MS} ${verdict(p(0.99) <= TARGET_HEALTH_P99_MS && failures === 0)}`)
  } finally {
    server.child.kill('SIGTERM')
    await new Promise((resolve) => server.child.on('close', resolve))
    rmSync(dataDir, { recursive: true, force: true })
  }
}
