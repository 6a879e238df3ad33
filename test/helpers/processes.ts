import { spawn, type ChildProcess } from 'node:child_process'
import { CONFIG_KEYS } from '../../src/config.js'

export const ROOT = new URL('../../', import.meta.url).pathname

export interface Proc {
  child: ChildProcess
  out: { stdout: string, stderr: string }
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** The runner's environment minus every massprov setting (empty = unset for loadConfig), plus overrides. */
export function childEnv (over: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...Object.fromEntries(CONFIG_KEYS.map((k) => [k, ''])), LOG_LEVEL: 'warn', ...over }
}

/** Starts `node ARGS` in the repository, collecting its output; `track` lets the suite kill it in afterAll. */
export function spawnNode (args: string[], env: NodeJS.ProcessEnv, track: Proc[]): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { stdout: '', stderr: '' }
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out.stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { out.stderr += s })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  const p = { child, out, exited }
  track.push(p)
  return p
}

export async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}
