import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { BatchSetup, RecordBatch } from './batches.js'
import type { CheckReply, CheckTask } from './check-task.js'
import { RESOURCE_LIMITS, type CheckPool } from './check-pool.js'
import type { CheckedLines } from './rows.js'

/** check-task.js in dist/; under tsx and vitest a JavaScript boot file that registers tsx first. */
function entry (): { filename: string, workerData: { entry: string, tsx: string } | undefined } {
  const ext = extname(fileURLToPath(import.meta.url))
  if (ext !== '.ts') return { filename: new URL('./check-task.js', import.meta.url).href, workerData: undefined }
  return {
    filename: new URL('./check-task-boot.mjs', import.meta.url).href,
    workerData: { entry: new URL('./check-task.ts', import.meta.url).href, tsx: import.meta.resolve('tsx/esm/api') },
  }
}

export function createPiscinaCheckPool (threads: number, resourceLimits: ResourceLimits = RESOURCE_LIMITS): CheckPool {
  const { filename, workerData } = entry()
  const pool = new Piscina<CheckTask, CheckReply>({
    filename,
    workerData,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: Infinity,
    resourceLimits,
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
