/**
 * Issue 3 point 8: `npm run bench -- check [--lines N] [--seed S] [--phases] [--profile FILE]`.
 *
 * In one process and one run:
 *  (a) baseline: decode + papaparse (header: true, delimiter ';') + the zod row schema of the file's
 *      header (compiled once, mode user) over every row, results kept alive as a server keeps them;
 *      one warm-up run, then the best of 3 measured runs, before, between and after the two (b);
 *  (b) the POST /users/imports/check round trip on the same bytes, over real HTTP on loopback
 *      (node:http, a fresh connection per request) to the app built by buildApp on a fresh, migrated
 *      PGlite, the whole answer read (streamed and counted, not kept); warmed up once on the first
 *      5,000 lines, then measured twice, the best run counting (the same statistic as (a)), with
 *      - RSS sampled every 20 ms by a worker thread (so a blocked event loop cannot hide the peak;
 *        the larger growth of the two runs counts),
 *      - a concurrent client polling GET /health sequentially on the same server, at most one
 *        request every 10 ms, which measures event-loop blocking (client and server share this
 *        process's event loop; unpaced, the poller's own requests took seconds of that loop from
 *        the check once the check stopped blocking it, and how much depended on the latency measured).
 * `--phases` also times the steps of a check in-process (decode, parse, snapshot, plan) and checkCsv as a whole;
 * `--profile FILE` writes a CPU profile of the measured round trip alone (open it in Chrome DevTools).
 * A `cpu (b)` line gives the fastest check's CPU time (process, event loop, other threads) against the
 * baseline's: not a target, but steadier than wall time on a shared machine.
 *
 * The last three lines are the BENCH lines (one per metric).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest, type RequestOptions } from 'node:http'
import { Session } from 'node:inspector/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import Papa from 'papaparse'
import { buildApp } from '../src/app.js'
import { decodeChunks } from '../src/csv/decode.js'
import { parseCsv } from '../src/csv/parse.js'
import { compileRowSchema } from '../src/csv/row-schema.js'
import type { Db } from '../src/db/db.js'
import { migrate } from '../src/db/migrate.js'
import { openPglite } from '../src/db/pglite.js'
import { checkCsv } from '../src/provisioning/check.js'
import { planRows } from '../src/provisioning/plan.js'
import { loadSnapshot } from '../src/provisioning/snapshot.js'
import { createTenantService } from '../src/services/tenants.js'
import { newId } from '../src/util/ids.js'
import { seedVoiceCompany, voiceCheckFile } from './voice.js'
import { generateCsv, type ExistingUser } from './csv-generate.js'

const TARGET_TIME_RATIO = 1.3
const TARGET_RSS_RATIO = 6
const TARGET_HEALTH_P99_MS = 50
const CHECK_PATH = '/api/rainbow/massprovisioning/v1.0/users/imports/check'
const VOICE_CHECK_PATH = '/api/rainbow/massprovisioning/v1.0/users/imports/rainbowvoice/check'
/** The route the run checks its file on (set once per run, by its mode). */
let checkPath = CHECK_PATH
const ADMIN_EMAIL = 'bench-admin@acme-corporation.example.com'
/** The planning phases run for a company administrator (D12), as the HTTP check does. */
const BENCH_CALLER = { id: 'b'.repeat(24), rank: 1 }
const ADMIN_PASSWORD = 'Bench-Passw0rd!'
const WARMUP_LINES = 5000
const HEALTH_INTERVAL_MS = 10

export interface CheckBenchOptions {
  lines: number
  seed: number
  phases: boolean
  /** Writes a CPU profile of the measured check round trip (only) to this .cpuprofile file. */
  profile?: string | undefined
  /** user (default): the generated user file; rainbowvoice: a Rainbow Voice file against a loaded Cloud PBX, the same targets. */
  mode?: 'user' | 'rainbowvoice'
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`

/** A full GC between measurements, so garbage of one step is not counted in the next one's RSS. */
export function getGc (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

export async function runCheckBench (opts: CheckBenchOptions): Promise<void> {
  const gc = getGc()
  const t0 = performance.now()
  const voice = opts.mode === 'rainbowvoice'
  const voiceFile = voice ? voiceCheckFile(opts.lines) : undefined
  const generated = voiceFile
    ? { text: voiceFile.text, existing: [], counts: { create: opts.lines - voiceFile.existing.length, update: voiceFile.existing.length, delete: 0, invalid: 0 } }
    : generateCsv({ lines: opts.lines, seed: opts.seed })
  const bytes = Buffer.from(generated.text, 'utf8')
  const warmupBytes = prefixLines(bytes, WARMUP_LINES + 1)
  const header = generated.text.slice(0, generated.text.indexOf('\n')).split(';')
  generated.text = '' // only the bytes stay alive
  const { counts } = generated
  console.log(`file: ${opts.lines} lines, ${mb(bytes.length)} (${Math.round(bytes.length / opts.lines)} bytes/line; ` +
    `${counts.create} create, ${counts.update} update, ${counts.delete} delete, ${counts.invalid} with an error; seed ${opts.seed}), generated in ${secs(performance.now() - t0)}`)

  const t1 = performance.now()
  const db = await openPglite()
  await migrate(db)
  const tenants = createTenantService({ db, xmppDomain: 'localhost' })
  const { companyId } = await tenants.createCompany({ name: 'Acme Bench', organization: 'Acme Group' })
  await tenants.createAdmin({ companyId, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, role: 'company_admin' })
  await seedExisting(db, companyId, generated.existing)
  if (voiceFile) await seedVoiceCompany(db, companyId, opts.lines, voiceFile.existing)
  checkPath = voice ? VOICE_CHECK_PATH : CHECK_PATH
  const app = await buildApp({
    db,
    config: { JWT_SECRET: `bench-${newId()}-${newId()}`, SECRETS_KEY: `bench-${newId()}-${newId()}`, JWT_TTL: 3600, JWT_ISSUER: 'massprov', REQUIRE_APP_AUTH: false },
    logger: false,
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  const base = `http://127.0.0.1:${address.port}`
  const token = await login(base)
  console.log(`server: PGlite (fresh, migrated, ${generated.existing.length} existing users for the update/delete lines) on ${base}, ready in ${secs(performance.now() - t1)}`)

  const compiled = compileRowSchema(header, voice ? 'rainbowvoice' : 'user')
  try {
    // Warm-ups: the baseline once on the whole file, the check once on its first lines (parsed and verified).
    baseline(bytes, compiled.schema)
    const warm = await postCheckJson(base, token, warmupBytes)
    console.log(`warm-up check (${WARMUP_LINES} lines): ${warm.plan} plan entries, ${warm.errors} errors, actions ${JSON.stringify(warm.actions)}`)

    if (opts.phases) await phases(db, companyId, bytes, compiled.schema, gc, voice ? 'rainbowvoice' : 'import')

    // (a) and (b) alternate, (a) three times and (b) twice, and each keeps its best run: the same
    // statistic on both sides, and a change of load during the run biases the ratio less. Memory
    // counts the larger growth of the two checks, /health every request of both.
    gc()
    const runs = [baseline(bytes, compiled.schema)]
    const checks: MeasuredCheck[] = []
    for (let k = 0; k < 2; k++) {
      checks.push(await measuredCheck(base, token, bytes, gc, k === 0 ? opts.profile : undefined))
      gc()
      runs.push(baseline(bytes, compiled.schema))
    }
    const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a))
    const fastest = checks.reduce((a, b) => (b.checkMs < a.checkMs ? b : a))
    const largest = checks.reduce((a, b) => (b.rss.peak - b.rssBefore > a.rss.peak - a.rssBefore ? b : a))
    const { answer, checkMs } = fastest
    const { rss, rssBefore, started } = largest
    const health = { latencies: checks.flatMap((c) => c.health.latencies), failures: checks.reduce((n, c) => n + c.health.failures, 0) }

    const timeRatio = checkMs / best.ms
    const rssGrowth = rss.peak - rssBefore
    const rssRatio = rssGrowth / bytes.length
    const sorted = Float64Array.from(health.latencies).sort()
    const p = (q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
    const slow = health.latencies.filter((l) => l > TARGET_HEALTH_P99_MS)

    console.log(`baseline (a): ${best.rows} rows (${best.invalid} invalid), runs around the checks ${runs.map((r) => secs(r.ms)).join(', ')}, best ${secs(best.ms)} (${(bytes.length / 1e6 / (best.ms / 1000)).toFixed(1)} MB/s)`)
    console.log(`check (b): HTTP ${answer.status}, runs ${checks.map((c) => secs(c.checkMs)).join(', ')}, best ${secs(checkMs)}, answer ${mb(answer.bytes)} with ${answer.planEntries} plan entries (${(bytes.length / 1e6 / (checkMs / 1000)).toFixed(1)} MB/s of CSV)`)
    console.log(`rss: before ${mb(rssBefore)}, peak ${mb(rss.peak)} (growth ${mb(rssGrowth)} = ${rssRatio.toFixed(2)} x file; the larger of the two checks; each: ${checks.map((c) => mb(c.rss.peak - c.rssBefore)).join(', ')}), ${rss.samples} samples every 20 ms, peak at +${secs(rss.peakAtMs - (started - rss.startedAt))}`)
    console.log(`health: ${health.latencies.length} requests (${health.failures} failed), p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, max ${p(1).toFixed(1)} ms; ` +
      `${slow.length} over ${TARGET_HEALTH_P99_MS} ms, together ${secs(slow.reduce((s, l) => s + l, 0))} of the checks' ${secs(checks.reduce((t, c) => t + c.checkMs, 0))}`)
    const c = fastest.cpuMs
    const leastCpu = Math.min(...runs.map((r) => r.cpuMs))
    console.log(`cpu (b), the fastest check: process ${secs(c.process)}, event loop ${c.main === undefined ? 'n/a (no /proc)' : secs(c.main)}, other threads ${c.main === undefined ? 'n/a' : secs(c.process - c.main)}; ` +
      `${(c.process / leastCpu).toFixed(2)} x the CPU time of the baseline's least costly run (${secs(leastCpu)}): the steadier figure when the machine is shared`)
    console.log(`event loop delay during (b): p99 ${checks.map((c) => c.loopP99Ms.toFixed(1)).join(', ')} ms, max ${checks.map((c) => c.loopMaxMs.toFixed(1)).join(', ')} ms`)

    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS')
    console.log(`BENCH ${voice ? 'check-rainbowvoice' : 'check'} time_ratio=${timeRatio.toFixed(2)} target<=${TARGET_TIME_RATIO} ${verdict(timeRatio <= TARGET_TIME_RATIO)}`)
    console.log(`BENCH ${voice ? 'check-rainbowvoice' : 'check'} rss_growth_ratio=${rssRatio.toFixed(2)} target<=${TARGET_RSS_RATIO} ${verdict(rssRatio <= TARGET_RSS_RATIO)}`)
    console.log(`BENCH ${voice ? 'check-rainbowvoice' : 'check'} health_p99_ms=${p(0.99).toFixed(1)} target<=${TARGET_HEALTH_P99_MS} ${verdict(p(0.99) <= TARGET_HEALTH_P99_MS)}`)
  } finally {
    await app.close()
    await db.close()
  }
}

interface MeasuredCheck {
  answer: Awaited<ReturnType<typeof postCheckStreamed>>
  checkMs: number
  started: number
  rssBefore: number
  rss: Awaited<ReturnType<ReturnType<typeof startRssSampler>['stop']>>
  health: Awaited<ReturnType<ReturnType<typeof startHealthPoller>['stop']>>
  loopP99Ms: number
  loopMaxMs: number
  /** CPU time of the round trip: the whole process, and the main thread (event loop) alone; the rest is the line threads and libuv's. */
  cpuMs: { process: number, main: number | undefined }
}

/** (b) once: RSS sampler and /health poller around one check round trip. */
async function measuredCheck (base: string, token: string, bytes: Buffer, gc: () => void, profile: string | undefined): Promise<MeasuredCheck> {
  gc()
  await sleep(200)
  const sampler = startRssSampler()
  await sleep(100)
  const rssBefore = process.memoryUsage.rss()
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const profiler = profile === undefined ? undefined : await startProfiler()
  const poller = startHealthPoller(base)
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpuMs()
  const started = performance.now()
  let answer: MeasuredCheck['answer']
  let checkMs: number
  let cpuMs: MeasuredCheck['cpuMs']
  let health: MeasuredCheck['health']
  let rss: MeasuredCheck['rss']
  try {
    answer = await postCheckStreamed(base, token, bytes)
    checkMs = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    const main1 = mainThreadCpuMs()
    cpuMs = { process: (cpu.user + cpu.system) / 1000, main: main0 === undefined || main1 === undefined ? undefined : main1 - main0 }
  } finally {
    // Stopped whatever happened: the worker and the poller would keep the process alive.
    if (profiler !== undefined && profile !== undefined) await profiler.stop(profile)
    loop.disable()
    health = await poller.stop()
    rss = await sampler.stop()
  }
  if (answer.status !== 200) throw new Error(`check answered ${answer.status}: ${answer.head}`)
  return { answer, checkMs, started, rssBefore, rss, health, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6, cpuMs }
}

/** CPU time of this process's main thread (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms); undefined elsewhere. */
function mainThreadCpuMs (): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined // not Linux: the line says so
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The first `count` lines of the file (header included). */
function prefixLines (bytes: Buffer, count: number): Buffer {
  let at = -1
  for (let i = 0; i < count; i++) {
    at = bytes.indexOf(10, at + 1)
    if (at === -1) return bytes
  }
  return bytes.subarray(0, at + 1)
}

interface BaselineRun { ms: number, cpuMs: number, rows: number, invalid: number }

function baseline (bytes: Buffer, schema: ReturnType<typeof compileRowSchema>['schema']): BaselineRun {
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, delimiter: ';', skipEmptyLines: true })
  const results: unknown[] = new Array(parsed.data.length)
  let invalid = 0
  for (let i = 0; i < parsed.data.length; i++) {
    const r = schema.safeParse(parsed.data[i])
    if (r.success) results[i] = r.data
    else {
      results[i] = r.error.issues
      invalid++
    }
  }
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, rows: results.length, invalid }
}

/** The users the update and delete lines name, inserted in one statement. */
export async function seedExisting (db: Db, companyId: string, users: readonly ExistingUser[]): Promise<void> {
  if (users.length === 0) return
  const ids = users.map(() => newId())
  await db.query(
    `INSERT INTO users (id, company_id, login_email, first_name, last_name, country, jid_im)
     SELECT u.id, $1, u.email, u.fn, u.ln, u.c, u.id || '@localhost'
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(id, email, fn, ln, c)`,
    [companyId, ids, users.map((u) => u.loginEmail), users.map((u) => u.firstName), users.map((u) => u.lastName), users.map((u) => u.country)])
}

interface HttpAnswer { status: number, body: Readable }

/** One request on a connection of its own (no keep-alive reuse across the long pauses of the benchmark). */
function send (url: string, options: RequestOptions, body?: Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { ...options, agent: false }, (res) => resolve({ status: res.statusCode ?? 0, body: res }))
    req.on('error', reject)
    req.end(body)
  })
}

async function readAll (body: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function login (base: string): Promise<string> {
  const res = await send(`${base}/api/rainbow/authentication/v1.0/login`, {
    headers: { authorization: `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}` },
  })
  const text = await readAll(res.body)
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${text}`)
  return (JSON.parse(text) as { token: string }).token
}

function checkRequest (base: string, token: string, body: Buffer): Promise<HttpAnswer> {
  return send(`${base}${checkPath}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', 'content-length': body.length, authorization: `Bearer ${token}` },
  }, body)
}

async function postCheckJson (base: string, token: string, body: Buffer) {
  const res = await checkRequest(base, token, body)
  const text = await readAll(res.body)
  if (res.status !== 200) throw new Error(`check answered ${res.status}: ${text.slice(0, 500)}`)
  const { data } = JSON.parse(text) as { data: { plan: unknown[], errors: unknown[], actions: Record<string, number> } }
  return { plan: data.plan.length, errors: data.errors.length, actions: data.actions }
}

/** The whole answer is read but not kept (it is not part of what the server holds); plan entries are counted on the way. */
async function postCheckStreamed (base: string, token: string, body: Buffer) {
  const res = await checkRequest(base, token, body)
  const needle = Buffer.from('"outcome":')
  let bytes = 0
  let planEntries = 0
  let head = ''
  let tail = Buffer.alloc(0)
  for await (const data of res.body) {
    const chunk = data as Buffer
    const buf = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
    if (head.length < 500) head += chunk.toString('utf8', 0, 500)
    bytes += chunk.length
    for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + needle.length)) planEntries++
    tail = Buffer.from(buf.subarray(Math.max(0, buf.length - needle.length + 1)))
  }
  return { status: res.status, bytes, planEntries, head: head.slice(0, 500) }
}

/** Sequential GET /health on a keep-alive connection (node:http: lighter than fetch), one every `intervalMs` at most, until stopped. */
function startHealthPoller (base: string, intervalMs = HEALTH_INTERVAL_MS) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const latencies: number[] = []
  let failures = 0
  const state = { stopped: false }
  const once = () => new Promise<void>((resolve) => {
    const req = httpRequest(`${base}/health`, { agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode !== 200) failures++
        resolve()
      })
    })
    req.on('error', () => {
      failures++
      resolve()
    })
    req.end()
  })
  const loop = (async () => {
    while (!state.stopped) {
      const t = performance.now()
      await once()
      const latency = performance.now() - t
      latencies.push(latency)
      if (latency < intervalMs && !state.stopped) await sleep(intervalMs - latency)
    }
  })()
  return {
    async stop () {
      state.stopped = true
      await loop
      agent.destroy()
      return { latencies, failures }
    },
  }
}

/** RSS of the whole process, sampled every 20 ms by a worker thread: its timer fires even while the main event loop is blocked. */
export function startRssSampler () {
  // [0] stop flag, [1] peak RSS, [2] samples, [3] ms from the worker's start to the peak, [4] worker start (performance.timeOrigin-relative, main's clock)
  const shared = new Float64Array(new SharedArrayBuffer(8 * 5))
  const code = `
    const { workerData } = require('node:worker_threads')
    const s = new Float64Array(workerData)
    const t0 = Date.now()
    const tick = () => {
      const rss = process.memoryUsage.rss()
      if (rss > s[1]) { s[1] = rss; s[3] = Date.now() - t0 }
      s[2]++
      if (s[0] === 1) { clearInterval(timer); process.exit(0) }
    }
    const timer = setInterval(tick, 20)
    tick()
  `
  const startedAt = performance.now()
  const worker = new Worker(code, { eval: true, workerData: shared.buffer })
  return {
    async stop () {
      shared[0] = 1
      await new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      return { peak: shared[1] as number, samples: shared[2] as number, peakAtMs: shared[3] as number, startedAt }
    },
  }
}

/** The V8 sampling profiler of this thread, through the inspector protocol. */
async function startProfiler () {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 500 })
  await session.post('Profiler.start')
  return {
    async stop (file: string) {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      writeFileSync(file, JSON.stringify(profile))
      console.log(`cpu profile of the check round trip: ${file}`)
    },
  }
}

/** Where the check's time goes, step by step, in-process (no HTTP), with what each step keeps alive. */
async function phases (db: Db, companyId: string, bytes: Buffer, schema: ReturnType<typeof compileRowSchema>['schema'], gc: () => void, endpoint: 'import' | 'rainbowvoice'): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 10 })
  const live = () => {
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const live0 = live()
    loop.reset()
    loop.enable()
    await sleep(25) // the histogram records from its second tick on: let the first one pass
    const t = performance.now()
    const out = await fn()
    const ms = performance.now() - t
    await sleep(30) // lets the histogram's timer fire once more, so a fully synchronous step is recorded
    loop.disable()
    const kept = live() - live0
    console.log(`phase ${name.padEnd(34)} ${secs(ms).padStart(8)}  longest event-loop block ${(loop.max / 1e6).toFixed(0).padStart(5)} ms  keeps ${mb(kept).padStart(9)}`)
    return out
  }
  let text: string | undefined = await step('baseline: decode (TextDecoder)', () => new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  let papa: Array<Record<string, string>> | undefined = await step('baseline: Papa.parse header:true', () => Papa.parse<Record<string, string>>(text as string, { header: true, delimiter: ';', skipEmptyLines: true }).data)
  text = undefined
  await step('baseline: zod safeParse every row', () => (papa as Array<Record<string, string>>).map((row) => schema.safeParse(row)).length)
  papa = undefined
  await step('check: decodeChunks', () => {
    let n = 0
    for (const chunk of decodeChunks(bytes)) n += chunk.length
    return n
  })
  let parsed: Awaited<ReturnType<typeof parseCsv>> | undefined = await step('check: parseCsv (parse + validate)', () => parseCsv(bytes, { endpoint }))
  const { rows, errors, mode } = parsed
  let snapshot: Awaited<ReturnType<typeof loadSnapshot>> | undefined = await step('check: loadSnapshot (DB)', () => loadSnapshot(db, companyId, rows, { voice: endpoint === 'rainbowvoice' }))
  let entries: ReturnType<typeof planRows> | undefined = await step('check: planRows', () => planRows(rows, errors, snapshot!, { companyId, nostrict: false, mode, caller: BENCH_CALLER }))
  console.log(`phase data: ${rows.length} rows, ${errors.length} line errors, snapshot ${snapshot.users.length} users, ${entries.length} plan entries`)
  parsed = snapshot = entries = undefined
  rows.length = 0
  const answer = await step('check: checkCsv (all of the above)', () => checkCsv(db, { companyId, endpoint, body: bytes, nostrict: false, caller: BENCH_CALLER, maxDeletePercent: 10 }))
  console.log(`phase answer: ${mb(answer.byteLength)} of JSON (${(answer.byteLength / bytes.length).toFixed(1)} x the file), ${answer.errorCount} errors`)
}
