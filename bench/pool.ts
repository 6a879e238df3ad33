/**
 * Issue 17 item 5: `npm run bench -- pool [--lines N] [--reps R] [--threads T] [--seed S]`.
 *
 * The hand-written line-checking pool (src/csv/check-pool.ts) against a piscina pool doing the same
 * work: the same task module (src/csv/check-task.ts), the same messages (setup id, setup, batch;
 * nothing transferred either way), the same number of threads, the same resource limits, threads
 * started on the first batch and kept. In one process, the two interleaved A/B/A/B over R
 * repetitions, each run after a full GC, three measurements per variant and repetition:
 *  - cold: a new pool's first check of a 1 MB file (thread start and module loading included);
 *  - parse: parseCsv of the whole file on the (warm) pool, rows streamed to onRows and dropped, as
 *    the check does: the pool's own share of a check, nothing planned;
 *  - check: checkCsv of the whole file against a fresh PGlite seeded with the users its update and
 *    delete lines name (the route's work without HTTP: parsing on the pool while this thread plans).
 * For each: wall time, CPU time (the process's, all threads, and its main thread's alone, which
 * the machine's load disturbs far less than wall time), RSS growth (peak - before, sampled by a thread every 20 ms) and the event
 * loop's delay p99 (monitorEventLoopDelay, 10 ms resolution; /health waits on the same loop).
 * `--only parse,check` leaves the others out; `--atomics disabled` sets piscina's
 * atomics option (default sync); `--reverse` runs piscina first in each repetition
 * (B/A/B/A), to see whether the order weighs on the ratios. Printed: every run, then per measurement the medians of each variant, piscina/hand-written of the
 * medians and the spread of the paired ratios, and the spread of each variant alone (the noise).
 */
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { loadavg } from 'node:os'
import { createCheckPool, type CheckPool } from '../src/csv/check-pool.js'
import { createPiscinaCheckPool } from './piscina-check-pool.js'
import { parseCsv } from '../src/csv/parse.js'
import { migrate } from '../src/db/migrate.js'
import { openPglite } from '../src/db/pglite.js'
import { checkCsv } from '../src/provisioning/check.js'
import { createTenantService } from '../src/services/tenants.js'
import { getGc, seedExisting, startRssSampler } from './check.js'
import { generateCsv } from './csv-generate.js'

export interface PoolBenchOptions { lines: number, reps: number, threads: number, seed: number, only?: readonly string[] | undefined, reverse?: boolean | undefined, atomics?: 'sync' | 'async' | 'disabled' | undefined }

const CALLER = { id: 'b'.repeat(24), rank: 1 }
const COLD_LINES = 4000
/** USER_HZ of /proc's utime and stime: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100
type VariantName = 'hand-written' | 'piscina'
const KINDS = ['cold', 'parse', 'check'] as const
type Kind = typeof KINDS[number]

interface Run { ms: number, cpuMs: number, mainCpuMs: number, rssGrowth: number, loopP99Ms: number }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

export async function runPoolBench (opts: PoolBenchOptions): Promise<void> {
  const gc = getGc()
  const variants: Array<{ name: VariantName, create: (threads: number) => CheckPool }> = [
    { name: 'hand-written', create: (threads) => createCheckPool(threads) },
    { name: 'piscina', create: (threads) => createPiscinaCheckPool(threads, undefined, opts.atomics) },
  ]
  const order = opts.reverse === true ? [...variants].reverse() : variants
  const wanted = (k: Kind) => opts.only === undefined || opts.only.includes(k)
  const generated = generateCsv({ lines: opts.lines, seed: opts.seed })
  const bytes = Buffer.from(generated.text, 'utf8')
  const small = prefix(bytes, COLD_LINES + 1)
  generated.text = ''
  const db = await openPglite()
  await migrate(db)
  const tenants = createTenantService({ db, xmppDomain: 'localhost' })
  const { companyId } = await tenants.createCompany({ name: 'Acme Bench', organization: 'Acme Group' })
  await seedExisting(db, companyId, generated.existing)
  console.log(`file: ${opts.lines} lines, ${(bytes.length / 1e6).toFixed(1)} MB; cold file ${COLD_LINES} lines, ${(small.length / 1e6).toFixed(2)} MB; ${opts.threads} threads, ${opts.reps} repetitions ${opts.reverse === true ? 'B/A/B/A (piscina first)' : 'A/B/A/B (hand-written first)'}; piscina atomics ${opts.atomics ?? 'sync'}; load average at start ${load()}`)

  const measure = async (fn: () => Promise<unknown>): Promise<Run> => {
    gc()
    await sleep(100)
    const sampler = startRssSampler()
    await sleep(60)
    const before = process.memoryUsage.rss()
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const t = performance.now()
    const cpu = process.cpuUsage()
    const mainCpu = mainThreadCpuMs()
    try {
      await fn()
    } finally {
      loop.disable()
    }
    const ms = performance.now() - t
    const used = process.cpuUsage(cpu)
    const cpuMs = (used.user + used.system) / 1000
    const mainCpuMs = mainThreadCpuMs() - mainCpu
    const rss = await sampler.stop()
    return { ms, cpuMs, mainCpuMs, rssGrowth: Math.max(0, rss.peak - before), loopP99Ms: loop.percentile(99) / 1e6 }
  }
  const parse = (pool: CheckPool, body: Buffer) => parseCsv(body, { endpoint: 'import', pool, keepRaw: false, onRows: () => {} })
  const check = (pool: CheckPool) => checkCsv(db, { companyId, endpoint: 'import', body: bytes, nostrict: false, caller: CALLER, maxDeletePercent: 10, lineThreads: pool, threadedBytes: 0 })

  const pools = new Map<VariantName, CheckPool>()
  const runs = new Map<string, Run[]>()
  const record = (v: VariantName, k: Kind, r: Run, rep: number) => {
    const key = `${v}/${k}`
    runs.set(key, [...(runs.get(key) ?? []), r])
    console.log(`rep ${rep} ${v.padEnd(12)} ${k.padEnd(5)} ${(r.ms / 1000).toFixed(3).padStart(7)} s  cpu ${(r.cpuMs / 1000).toFixed(2).padStart(6)} s (main ${(r.mainCpuMs / 1000).toFixed(2).padStart(6)} s)  rss +${(r.rssGrowth / 1e6).toFixed(1).padStart(6)} MB  loop p99 ${r.loopP99Ms.toFixed(1).padStart(6)} ms  (load ${load()})`)
  }
  let answer: string | undefined
  try {
    for (const v of variants) {
      const pool = v.create(opts.threads)
      pools.set(v.name, pool)
      // Warm-up (threads started, modules compiled), and both pools must give the same answer.
      const parsed = await parse(pool, bytes)
      const checked = await check(pool)
      const seen = `${parsed.dataLines} lines, ${checked.errorCount} errors`
      console.log(`warm-up ${v.name}: ${seen}`)
      if (answer !== undefined && answer !== seen) throw new Error(`the pools disagree: ${answer} against ${seen}`)
      answer = seen
    }
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const v of order) {
        if (wanted('cold')) {
          const fresh = v.create(opts.threads)
          try {
            record(v.name, 'cold', await measure(() => parse(fresh, small)), rep)
          } finally {
            await fresh.close()
          }
        }
        const pool = pools.get(v.name) as CheckPool
        if (wanted('parse')) record(v.name, 'parse', await measure(() => parse(pool, bytes)), rep)
        if (wanted('check')) record(v.name, 'check', await measure(() => check(pool)), rep)
      }
    }
  } finally {
    for (const p of pools.values()) await p.close()
    await db.close()
  }

  console.log(`load average at end ${load()}`)
  const metrics = [
    { name: 'time', of: (r: Run) => r.ms, unit: 'ms' },
    { name: 'cpu', of: (r: Run) => r.cpuMs, unit: 'ms' },
    { name: 'main_cpu', of: (r: Run) => r.mainCpuMs, unit: 'ms' },
    { name: 'rss', of: (r: Run) => r.rssGrowth / 1e6, unit: 'MB' },
    { name: 'loop_p99', of: (r: Run) => r.loopP99Ms, unit: 'ms' },
  ]
  for (const k of KINDS.filter(wanted)) {
    const a = runs.get(`hand-written/${k}`) ?? []
    const b = runs.get(`piscina/${k}`) ?? []
    for (const m of metrics) {
      const av = a.map(m.of)
      const bv = b.map(m.of)
      const paired = av.map((x, i) => (bv[i] as number) / x)
      const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`
      console.log(`BENCH pool ${k} ${m.name} piscina/hand-written=${(median(bv) / median(av)).toFixed(2)} ` +
        `(medians ${median(bv).toFixed(1)} / ${median(av).toFixed(1)} ${m.unit}; paired ratios ${paired.map((r) => r.toFixed(2)).join(' ')}; ` +
        `hand-written ${spread(av)}, piscina ${spread(bv)} ${m.unit})`)
    }
  }
}

/** CPU time of this process's main thread (the event loop's), from /proc (Linux); its tid is the pid. */
function mainThreadCpuMs (): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS
}

/** The first `count` lines of the file (header included). */
function prefix (bytes: Buffer, count: number): Buffer {
  let at = -1
  for (let i = 0; i < count; i++) {
    at = bytes.indexOf(10, at + 1)
    if (at === -1) return bytes
  }
  return bytes.subarray(0, at + 1)
}
