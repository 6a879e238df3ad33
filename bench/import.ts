/**
 * Issue 4 point 7: `npm run bench -- import [--lines N] [--modes postgres,embedded]`.
 *
 * For each runtime mode, a real server process (`src/server.ts`, its own fresh database, the demo
 * admin it seeds) and, in the same run:
 *  (a) an import of N creates, each with a password: wall time from the accepted POST to
 *      Terminated, against lines × (argon2 time per hash ÷ hashing threads), the hash time
 *      calibrated just before and just after on HASH_THREADS threads kept busy (the same pool the
 *      server uses), the mean of the two;
 *  (c) during (a), GET /users/imports/:reqId/details?format=small polled sequentially: its p99;
 *  (b) an import of N updates of those users without passwords: rows/s against a raw chunked
 *      `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` of the same users' rows (same fields, same
 *      chunk size) on the same database, run after the server stopped. The import's rows/s is that
 *      of applying the lines: from the accepted POST (the file is then parsed, checked and stored)
 *      to Terminated; the end-to-end figure, upload included, is printed beside it. Both sides run
 *      twice and keep their best run: a run of 1–3 s on a shared machine is noisy.
 * `--updates-only` measures (b) alone, the users created by an import without passwords (minutes
 * shorter, for working on the update path); (a) and (c) are then not reported.
 * Modes: `postgres` (DATABASE_URL; BullMQ on Redis when REDIS_URL is set, else on PostgreSQL; the
 * server also runs the worker) and `embedded` (PGlite, in-process queue).
 */
import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism, tmpdir } from 'node:os'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import pino from 'pino'
import type { Db } from '../src/db/db.js'
import { openPglite } from '../src/db/pglite.js'
import { openPostgres } from '../src/db/postgres.js'
import { createHashPool } from '../src/services/hash-pool.js'

const MP = '/api/rainbow/massprovisioning/v1.0'
const ROOT = new URL('../', import.meta.url).pathname
const CHUNK = 1000
const TARGET_CREATE_RATIO = 1.15
const TARGET_UPDATE_RATIO = 0.5
const TARGET_DETAILS_P99_MS = 200

export interface ImportBenchOptions { lines: number, modes: Array<'postgres' | 'embedded'>, updatesOnly?: boolean }

interface ModeResult { mode: string, queue: string, createMs: number | undefined, idealMs: number, hashMs: number, threads: number, p99Ms: number, samples: number, updateRps: number, endToEndRps: number, rawRps: number }

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runImportBench (opts: ImportBenchOptions): Promise<void> {
  const threads = Math.max(1, availableParallelism() - 1)
  const results: ModeResult[] = []
  for (const mode of opts.modes) {
    if (mode === 'postgres' && !process.env.DATABASE_URL) {
      console.log('postgres mode skipped: DATABASE_URL is not set')
      continue
    }
    results.push(mode === 'postgres' ? await postgresMode(opts, threads) : await embeddedMode(opts, threads))
  }
  console.log('')
  for (const r of results) {
    const creates = r.createMs === undefined
      ? ''
      : `creates ${secs(r.createMs)} for ${opts.lines} lines = ${(r.createMs / r.idealMs).toFixed(3)} × ideal ${secs(r.idealMs)} ` +
        `(${r.hashMs.toFixed(2)} ms/hash on ${r.threads} thread(s)); details p99 ${r.p99Ms.toFixed(0)} ms over ${r.samples} requests; `
    console.log(`${r.mode} (${r.queue}): ${creates}updates ${r.updateRps.toFixed(0)} rows/s applied (${r.endToEndRps.toFixed(0)} rows/s with the upload, ` +
      `${(r.endToEndRps / r.rawRps).toFixed(3)} × raw) vs raw upsert ${r.rawRps.toFixed(0)} rows/s`)
  }
  for (const r of results) {
    const u = r.updateRps / r.rawRps
    if (r.createMs !== undefined) {
      const ratio = r.createMs / r.idealMs
      console.log(`BENCH import-${r.mode}-creates wall/ideal=${ratio.toFixed(3)} target<=${TARGET_CREATE_RATIO} ${ratio <= TARGET_CREATE_RATIO ? 'PASS' : 'MISS'}`)
    }
    console.log(`BENCH import-${r.mode}-updates rows_per_s_ratio=${u.toFixed(3)} target>=${TARGET_UPDATE_RATIO} ${u >= TARGET_UPDATE_RATIO ? 'PASS' : 'MISS'}`)
    if (r.createMs !== undefined) {
      console.log(`BENCH import-${r.mode}-details p99_ms=${r.p99Ms.toFixed(0)} target<=${TARGET_DETAILS_P99_MS} ${r.p99Ms <= TARGET_DETAILS_P99_MS ? 'PASS' : 'MISS'}`)
    }
  }
}

async function postgresMode (opts: ImportBenchOptions, threads: number): Promise<ModeResult> {
  const name = `massprov_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  const queue = process.env.REDIS_URL ? 'bullmq-redis' : 'bullmq-postgres'
  try {
    const env = { DATABASE_URL: url.toString(), JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'), SEED_DEMO: 'true', QUEUE_PREFIX: `bench-${name}`, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) }
    const served = await serve(env, opts, threads)
    const db = openPostgres(url.toString(), { poolSize: 2, logger: pino({ level: 'silent' }) })
    try {
      return { mode: 'postgres', queue, ...served, rawRps: await rawUpsertRps(db, served.emails) }
    } finally {
      await db.close()
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    await admin.end()
  }
}

async function embeddedMode (opts: ImportBenchOptions, threads: number): Promise<ModeResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-bench-import-'))
  try {
    const served = await serve({ DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', SECRETS_KEY: '' }, opts, threads)
    const db = await openPglite(join(dataDir, 'pgdata'))
    try {
      return { mode: 'embedded', queue: 'in-process', ...served, rawRps: await rawUpsertRps(db, served.emails) }
    } finally {
      await db.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** One server process: calibrate, (a) + (c), (b); then it is stopped. */
async function serve (env: Record<string, string>, { lines, updatesOnly }: ImportBenchOptions, threads: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    // The poller of (c) sends ~50 requests a second: above the default rate limit.
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_IP_MAX: '10000000', HASH_THREADS: String(threads), IMPORT_CHUNK_SIZE: String(CHUNK), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const output = { text: '' }
  try {
    const { url, login, password } = await banner(child, output)
    const token = await logIn(url, login, password)
    const tag = randomBytes(3).toString('hex')
    const emails = Array.from({ length: lines }, (_, i) => `bench-${i}-${tag}@example.com`)

    let created: Pick<ModeResult, 'createMs' | 'idealMs' | 'hashMs' | 'p99Ms' | 'samples'> = { createMs: undefined, idealMs: Number.NaN, hashMs: Number.NaN, p99Ms: Number.NaN, samples: 0 }
    if (updatesOnly) {
      const plain = ['__action__;loginEmail;firstName;lastName', ...emails.map((e, i) => `create;${e};First${i};Last${i}`)]
      console.log(`users created without passwords in ${secs((await importAndWait(url, token, plain)).totalMs)}`)
    } else {
      // Calibrated just before and just after (a), the mean taken: the machine's load drifts over minutes.
      const before = await calibrate(threads)
      const creates = ['__action__;loginEmail;password;firstName;lastName', ...emails.map((e, i) => `create;${e};Bench-Pw!${i}-${tag};First${i};Last${i}`)]
      const poller = pollDetails(url, token)
      const createMs = (await importAndWait(url, token, creates, poller)).totalMs
      const latencies = poller.stop()
      const after = await calibrate(threads)
      const hashMs = (before + after) / 2
      const idealMs = lines * hashMs / threads
      console.log(`calibrated: ${before.toFixed(2)} ms per hash before (a), ${after.toFixed(2)} ms after, on ${threads} thread(s); ideal for ${lines} creates: ${secs(idealMs)}`)
      const p99Ms = percentile(latencies, 0.99)
      console.log(`(a) creates: ${secs(createMs)}; (c) details p99 ${p99Ms.toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`)
      created = { createMs, idealMs, hashMs, p99Ms, samples: latencies.length }
    }

    const runs: Waited[] = []
    for (const name of ['Renamed', 'Again']) {
      const updates = ['__action__;loginEmail;firstName;jobTitle', ...emails.map((e, i) => `update;${e};${name}${i};Engineer ${(i + name.length) % 97}`)]
      const run = await importAndWait(url, token, updates, undefined, 25)
      console.log(`(b) updates: ${secs(run.appliedMs)} from the accepted POST to Terminated (${(lines / (run.appliedMs / 1000)).toFixed(0)} rows/s); ` +
        `${secs(run.totalMs)} with the upload (${(lines / (run.totalMs / 1000)).toFixed(0)} rows/s)`)
      runs.push(run)
    }
    const updateRps = lines / (Math.min(...runs.map((r) => r.appliedMs)) / 1000)
    const endToEndRps = lines / (Math.min(...runs.map((r) => r.totalMs)) / 1000)
    return { ...created, threads, updateRps, endToEndRps, emails }
  } catch (err) {
    console.error(`server output:\n${output.text.slice(-4000)}`)
    throw err
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve))
  }
}

export async function banner (child: ChildProcess, output: { text: string }): Promise<{ url: string, login: string, password: string }> {
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output.text += s })
  const deadline = Date.now() + 120_000
  for (;;) {
    const out = output.text
    const url = /massprov is listening on (http:\/\/\S+?:\d+)/.exec(out)?.[1]
    const login = /^ {2}login: +(\S+)$/m.exec(out)?.[1]
    const password = /^ {2}password: +(\S+)$/m.exec(out)?.[1]
    if (url && login && password) return { url, login, password }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${out}`)
    await sleep(50)
  }
}

export async function logIn (url: string, login: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/rainbow/authentication/v1.0/login`, { headers: { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` } })
  if (res.status !== 200) throw new Error(`login: HTTP ${res.status}`)
  return (await res.json() as { token: string }).token
}

/** Per-hash time with every hashing thread busy, as during an import. */
async function calibrate (threads: number): Promise<number> {
  const pool = createHashPool(threads)
  try {
    await Promise.all(Array.from({ length: threads * 4 }, (_, i) => pool.hash(`warm-${i}`)))
    const count = threads * 150
    const started = performance.now()
    await Promise.all(Array.from({ length: count }, (_, i) => pool.hash(`Calibrate-Pw!${i}`)))
    return (performance.now() - started) * threads / count
  } finally {
    await pool.close()
  }
}

interface Poller { reqId: string | undefined, stop: () => number[] }

/** GET details of the running import, one request after the other, 20 ms apart. */
function pollDetails (url: string, token: string): Poller {
  const latencies: number[] = []
  const state = { running: true }
  const poller: Poller = { reqId: undefined, stop: () => { state.running = false; return latencies } }
  ;(async () => {
    while (state.running) {
      if (poller.reqId) {
        const started = performance.now()
        const res = await fetch(`${url}${MP}/users/imports/${poller.reqId}/details?format=small`, { headers: { authorization: `Bearer ${token}` } })
        await res.arrayBuffer()
        latencies.push(performance.now() - started)
      }
      await sleep(20)
    }
  })().catch((err: unknown) => { console.error('details poller failed', err) })
  return poller
}

export interface Waited { totalMs: number, appliedMs: number, reqId?: string }

/** Sends the file, then polls its report every `pollMs` until it has ended. */
export async function importAndWait (url: string, token: string, lines: string[], poller?: Poller, pollMs = 100): Promise<Waited> {
  const started = performance.now()
  const res = await fetch(`${url}${MP}/users/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=utf-8' },
    body: lines.join('\n') + '\n',
  })
  if (res.status !== 200) throw new Error(`POST /users/imports: HTTP ${res.status} ${await res.text()}`)
  const { reqId } = (await res.json() as { data: { reqId: string } }).data
  const accepted = performance.now()
  if (poller) poller.reqId = reqId
  for (;;) {
    const d = await fetch(`${url}${MP}/users/imports/${reqId}/details?format=small`, { headers: { authorization: `Bearer ${token}` } })
    const data = (await d.json() as { data: { status: string, counters: { succeeded: number, failed: number } } }).data
    if (data.status !== 'Pending') {
      const now = performance.now()
      if (data.counters.failed > 0) console.log(`warning: ${data.counters.failed} lines failed`)
      return { totalMs: now - started, appliedMs: now - accepted, reqId }
    }
    await sleep(pollMs)
  }
}

/**
 * The baseline: the same users' rows upserted with the same changes, chunk by chunk in
 * transactions of CHUNK rows, as one statement each.
 */
async function rawUpsertRps (db: Db, emails: string[]): Promise<number> {
  const rows = await db.query<{ id: string, companyId: string, loginEmail: string, jid: string }>(
    'SELECT id, company_id AS "companyId", login_email AS "loginEmail", jid_im AS jid FROM users WHERE login_email = ANY($1::text[]) AND deleted_at IS NULL', [emails])
  const times: number[] = []
  for (const name of ['Raw', 'Again raw']) {
    const started = performance.now()
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK)
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO users (id, company_id, login_email, jid_im, first_name, job_title)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name, job_title = EXCLUDED.job_title, updated_at = now()`,
          [chunk.map((r) => r.id), chunk.map((r) => r.companyId), chunk.map((r) => r.loginEmail), chunk.map((r) => r.jid),
            chunk.map((_, k) => `${name}${i + k}`), chunk.map((_, k) => `${name} engineer ${(i + k) % 97}`)])
      })
    }
    times.push(performance.now() - started)
  }
  console.log(`raw upsert of ${rows.length} rows: ${times.map(secs).join(', ')}`)
  return rows.length / (Math.min(...times) / 1000)
}

function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}
