/**
 * Issue 18: `npm run bench -- revert [--lines N] [--modes embedded,postgres]`.
 *
 * For each runtime mode, a real server process (`src/server.ts`, its own fresh database, the demo
 * admin it seeds), no passwords anywhere (no hashing on either side):
 *  (1) an import of N creates, then its revert (N users deleted);
 *  (2) an import of N updates of other users (two fields each), then its revert (N users set back).
 * Each time is wall time from the POST to Terminated (the import's upload, parse and storage; the
 * revert's copy of the before-images into its lines), polled every 25 ms. The figure is
 * revert_time / import_time, target ≤ 1.5.
 */
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { banner, importAndWait, logIn, type Waited } from './import.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const ROOT = new URL('../', import.meta.url).pathname
const TARGET_RATIO = 1.5

export interface RevertBenchOptions { lines: number, modes: Array<'postgres' | 'embedded'> }

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runRevertBench (opts: RevertBenchOptions): Promise<void> {
  const results: Array<{ mode: string, kind: string, importMs: number, revertMs: number }> = []
  for (const mode of opts.modes) {
    if (mode === 'postgres' && !process.env.DATABASE_URL) {
      console.log('postgres mode skipped: DATABASE_URL is not set')
      continue
    }
    results.push(...(mode === 'postgres' ? await postgresMode(opts.lines) : await embeddedMode(opts.lines)))
  }
  console.log('')
  for (const r of results) {
    const ratio = r.revertMs / r.importMs
    console.log(`${r.mode} ${r.kind}: import ${secs(r.importMs)}, revert ${secs(r.revertMs)} for ${opts.lines} lines`)
    console.log(`BENCH revert-${r.mode}-${r.kind} revert/import=${ratio.toFixed(3)} target<=${TARGET_RATIO} ${ratio <= TARGET_RATIO ? 'PASS' : 'MISS'}`)
  }
}

async function postgresMode (lines: number) {
  const name = `massprov_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  try {
    const env = { DATABASE_URL: url.toString(), JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'), SEED_DEMO: 'true', QUEUE_PREFIX: `bench-${name}`, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) }
    return (await serve(env, lines)).map((r) => ({ mode: 'postgres', ...r }))
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    await admin.end()
  }
}

async function embeddedMode (lines: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-bench-revert-'))
  try {
    return (await serve({ DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', SECRETS_KEY: '' }, lines)).map((r) => ({ mode: 'embedded', ...r }))
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function serve (env: Record<string, string>, lines: number): Promise<Array<{ kind: string, importMs: number, revertMs: number }>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_IP_MAX: '10000000', IMPORT_CHUNK_SIZE: '1000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const output = { text: '' }
  try {
    const { url, login, password } = await banner(child, output)
    const token = await logIn(url, login, password)
    const tag = randomBytes(3).toString('hex')
    const emails = (who: string) => Array.from({ length: lines }, (_, i) => `bench-${who}-${i}-${tag}@example.com`)
    const results = []

    const created = emails('c')
    const creates = await importAndWait(url, token, ['__action__;loginEmail;firstName;lastName', ...created.map((e, i) => `create;${e};First${i};Last${i}`)], undefined, 25)
    results.push({ kind: 'creates', importMs: creates.totalMs, revertMs: (await revertAndWait(url, token, creates)).totalMs })

    const others = emails('u')
    const setup = await importAndWait(url, token, ['__action__;loginEmail;firstName;jobTitle', ...others.map((e, i) => `create;${e};Before${i};Job${i % 97}`)], undefined, 25)
    console.log(`users to update created in ${secs(setup.totalMs)}`)
    const updates = await importAndWait(url, token, ['__action__;loginEmail;firstName;jobTitle', ...others.map((e, i) => `update;${e};After${i};Engineer ${i % 89}`)], undefined, 25)
    results.push({ kind: 'updates', importMs: updates.totalMs, revertMs: (await revertAndWait(url, token, updates)).totalMs })
    for (const r of results) console.log(`${r.kind}: import ${secs(r.importMs)}, revert ${secs(r.revertMs)}`)
    return results
  } catch (err) {
    console.error(`server output:\n${output.text.slice(-4000)}`)
    throw err
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve))
  }
}

async function revertAndWait (url: string, token: string, imported: Waited): Promise<Waited> {
  const started = performance.now()
  const res = await fetch(`${url}${MP}/users/imports/${imported.reqId!}/revert`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`POST revert: HTTP ${res.status} ${await res.text()}`)
  const { reqId } = (await res.json() as { data: { reqId: string } }).data
  const accepted = performance.now()
  for (;;) {
    const d = await fetch(`${url}${MP}/users/imports/${reqId}/details?format=small`, { headers: { authorization: `Bearer ${token}` } })
    const data = (await d.json() as { data: { status: string, counters: { succeeded: number, failed: number } } }).data
    if (data.status !== 'Pending') {
      const now = performance.now()
      if (data.counters.failed > 0 || data.status !== 'Terminated') throw new Error(`the revert ended ${data.status} with ${data.counters.failed} failed lines`)
      return { totalMs: now - started, appliedMs: now - accepted }
    }
    await sleep(25)
  }
}
