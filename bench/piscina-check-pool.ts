/**
 * The piscina pool `npm run bench -- pool` measures against src/csv/check-pool.ts (issue 17 item 5;
 * docs/decisions.md, "Pools and gates"): the same task module (src/csv/check-task.ts), the same
 * messages, nothing transferred, the same resource limits, threads started on demand and kept.
 * Not used by the server: the measured loss kept the hand-written pool. What it took to keep the
 * pool's behaviour (test/csv/threads.test.ts passed on it) is here, for a later attempt.
 */
import type { ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { BatchSetup, RecordBatch } from '../src/csv/batches.js'
import { RESOURCE_LIMITS, type CheckPool } from '../src/csv/check-pool.js'
import type { CheckReply, CheckTask } from '../src/csv/check-task.js'
import type { CheckedLines } from '../src/csv/rows.js'

/** `atomics`: piscina's default `sync` blocks an idle thread in Atomics.wait; `disabled` waits for messages as check-pool.ts does. */
export function createPiscinaCheckPool (threads: number, resourceLimits: ResourceLimits = RESOURCE_LIMITS, atomics: 'sync' | 'async' | 'disabled' = 'sync'): CheckPool {
  const pool = new Piscina<CheckTask, CheckReply>({
    // Under tsx a worker thread gets no loader on Node 20: a JavaScript file registers it first.
    filename: new URL('./piscina-check-task.mjs', import.meta.url).href,
    workerData: { entry: new URL('../src/csv/check-task.ts', import.meta.url).href, tsx: import.meta.resolve('tsx/esm/api') },
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: Infinity,
    resourceLimits,
    atomics,
    // A thread inherits the process's options, but --input-type (node -e) refuses a file entry.
    execArgv: process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type'),
  })
  const setupIds = new WeakMap<BatchSetup, number>()
  let nextSetupId = 1
  let closed = false
  /** Batches given to piscina and not settled, oldest first: the last `pool.queueSize` wait for a thread. */
  const pending = new Set<AbortController>()

  // A thread that failed holding no batch (one that could not start): piscina starts no other one
  // until the next run, so batches waiting with no thread left would wait forever; they fail instead.
  pool.on('error', (err: Error) => {
    if (pool.threads.length > 0) return
    for (const waiting of [...pending].slice(-pool.queueSize)) waiting.abort(err)
  })

  return {
    threads,
    async check (setup: BatchSetup, batch: RecordBatch): Promise<CheckedLines> {
      if (closed) throw new Error('the line-checking threads are closed')
      let setupId = setupIds.get(setup)
      if (setupId === undefined) {
        setupId = nextSetupId++
        setupIds.set(setup, setupId)
      }
      const task = new AbortController()
      pending.add(task)
      let reply: CheckReply
      try {
        reply = await pool.run({ setupId, setup, batch }, { signal: task.signal })
      } catch (err) {
        throw task.signal.aborted ? task.signal.reason as Error : err
      } finally {
        pending.delete(task)
      }
      if ('failure' in reply) throw new Error(`checking lines failed: ${reply.failure}`)
      return reply.checked
    },
    async close () {
      closed = true
      await pool.destroy()
    },
  }
}
