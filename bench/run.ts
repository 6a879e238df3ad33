/**
 * Benchmark dispatcher: `npm run bench -- <name> [--lines N] [options]`.
 * Each benchmark measures against a baseline run in the same process and prints, as its last
 * lines, one `BENCH <name> <metric>=<value> target<op><value> PASS|MISS` line per metric.
 */
import { runCheckBench } from './check.js'
import { runImportBench } from './import.js'
import { runLoadBench } from './load.js'
import { runPoolBench } from './pool.js'
import { runRevertBench } from './revert.js'
import { runVoiceBench } from './voice.js'

const USAGE = 'usage: npm run bench -- <check|import|load|pool|revert|voice> [--lines N] [--seed S] [--phases] [--profile FILE.cpuprofile] [--modes postgres,embedded] [--updates-only] [--mode rainbowvoice (check)] [--reps R] [--threads T] [--only cold,parse,check] [--reverse] [--atomics sync|async|disabled] (pool)'

type Bench = (args: string[]) => Promise<void>

function intArg (args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`)
  if (i === -1) return fallback
  const v = Number(args[i + 1])
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} needs a positive integer`)
  return v
}

function stringArg (args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  if (i === -1) return undefined
  const v = args[i + 1]
  if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`)
  return v
}

class UsageError extends Error {}

function atomicsArg (v: string | undefined): 'sync' | 'async' | 'disabled' | undefined {
  if (v === undefined || v === 'sync' || v === 'async' || v === 'disabled') return v
  throw new UsageError('--atomics is sync, async or disabled')
}

const BENCHES: Record<string, Bench> = {
  check: (args) => runCheckBench({
    lines: intArg(args, 'lines', 100_000),
    seed: intArg(args, 'seed', 42),
    phases: args.includes('--phases'),
    profile: stringArg(args, 'profile'),
    mode: stringArg(args, 'mode') === 'rainbowvoice' ? 'rainbowvoice' : 'user',
  }),
  import: (args) => runImportBench({
    lines: intArg(args, 'lines', 20_000),
    modes: (stringArg(args, 'modes') ?? 'postgres,embedded').split(',') as Array<'postgres' | 'embedded'>,
    updatesOnly: args.includes('--updates-only'),
  }),
  revert: (args) => runRevertBench({
    lines: intArg(args, 'lines', 20_000),
    modes: (stringArg(args, 'modes') ?? 'embedded,postgres').split(',') as Array<'postgres' | 'embedded'>,
  }),
  pool: (args) => runPoolBench({
    lines: intArg(args, 'lines', 50_000),
    reps: intArg(args, 'reps', 5),
    threads: intArg(args, 'threads', 2),
    seed: intArg(args, 'seed', 42),
    only: stringArg(args, 'only')?.split(','),
    reverse: args.includes('--reverse'),
    atomics: atomicsArg(stringArg(args, 'atomics')),
  }),
  voice: (args) => runVoiceBench({ lines: intArg(args, 'lines', 10_000) }),
  load: (args) => runLoadBench({
    seconds: intArg(args, 'seconds', 30),
    connections: intArg(args, 'connections', 200),
    lines: intArg(args, 'lines', 1000),
  }),
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const bench = name === undefined ? undefined : BENCHES[name]
  if (bench === undefined) {
    console.error(name === undefined ? USAGE : `unknown benchmark ${JSON.stringify(name)}; ${USAGE}`)
    return 2
  }
  try {
    await bench(rest)
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}; ${USAGE}`)
      return 2
    }
    throw err
  }
}

process.exitCode = await main(process.argv.slice(2))
