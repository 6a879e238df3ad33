import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import type { BatchSetup, RecordBatch } from './batches.js'
import type { CheckReply, CheckTask } from './check-task.js'
import type { CheckPool } from './check-pool.js'
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

const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 128 }

export function createPiscinaCheckPool (threads: number): CheckPool {
  const { filename, workerData } = entry()
  const pool = new Piscina<CheckTask, CheckReply>({
    filename,
    workerData,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: Infinity,
    resourceLimits: RESOURCE_LIMITS,
  })
  // A thread that fails with no batch on it: the next batch starts another.
  pool.on('error', () => {})
  const setupIds = new WeakMap<BatchSetup, number>()
  let nextSetupId = 1
  let closed = false
  return {
    threads,
    async check (setup: BatchSetup, batch: RecordBatch): Promise<CheckedLines> {
      if (closed) throw new Error('the line-checking threads are closed')
      let setupId = setupIds.get(setup)
      if (setupId === undefined) {
        setupId = nextSetupId++
        setupIds.set(setup, setupId)
      }
      const reply = await pool.run({ setupId, setup, batch })
      if ('failure' in reply) throw new Error(`checking lines failed: ${reply.failure}`)
      return reply.checked
    },
    async close () {
      closed = true
      await pool.destroy()
    },
  }
}
