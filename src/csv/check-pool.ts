import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, type ResourceLimits } from 'node:worker_threads'
import type { BatchSetup, RecordBatch } from './batches.js'
import type { CheckReply, CheckTask } from './check-task.js'
import type { CheckedLines } from './rows.js'
import type { LineThreads } from './parse-options.js'

export interface CheckPool extends LineThreads {
  close: () => Promise<void>
}

interface Task { message: CheckTask, resolve: (checked: CheckedLines) => void, reject: (err: Error) => void }
interface Slot { worker: Worker, task: Task | undefined }

// The entry is the sibling module: JavaScript in dist/; TypeScript under tsx and vitest, whose
// loaders a worker thread does not get on Node 20 (not even from execArgv), so it registers tsx
// itself first. An ES module in a data: URL, which no --input-type can make CommonJS.
const BOOT = new URL(`data:text/javascript,${encodeURIComponent(`
import { workerData } from 'node:worker_threads'
if (workerData.tsx !== undefined) (await import(workerData.tsx)).register()
await import(workerData.entry)
`)}`)

function workerData (): { entry: string, tsx: string | undefined } {
  const ext = extname(fileURLToPath(import.meta.url))
  const entry = new URL(`./check-worker${ext}`, import.meta.url).href
  return { entry, tsx: ext === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined }
}

/**
 * A thread's modules take about 12 MB of heap, but with the main isolate's heap limit two threads
 * grew by 70–130 MB during a 25 MB check. With this one V8 collects sooner: about 50 MB, for 10–25 %
 * more CPU time (64 MB: about 30 %).
 */
export const RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 128 }

/**
 * `threads` worker threads that split and validate batches of lines (papaparse and the zod row
 * schemas, most of a check's time) while the event loop plans the batches before. Each thread
 * takes one batch at a time; idle threads are unref'd and never keep the process alive.
 */
export function createCheckPool (threads: number, resourceLimits: ResourceLimits = RESOURCE_LIMITS): CheckPool {
  const data = workerData()
  const slots: Slot[] = []
  const queue: Task[] = []
  const setupIds = new WeakMap<BatchSetup, number>()
  let nextSetupId = 1
  let closed = false

  function spawn (): Slot {
    const worker = new Worker(BOOT, { workerData: data, resourceLimits })
    const slot: Slot = { worker, task: undefined }
    const fail = (err: Error) => {
      const i = slots.indexOf(slot)
      if (i === -1) return
      slots.splice(i, 1)
      slot.task?.reject(err)
      slot.task = undefined
      pump()
    }
    worker.on('message', (reply: CheckReply) => {
      const task = slot.task
      slot.task = undefined
      if ('checked' in reply) task?.resolve(reply.checked)
      else task?.reject(new Error(`checking lines failed: ${reply.failure}`))
      pump()
    })
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`a line-checking thread stopped (exit code ${code})`)))
    worker.unref()
    slots.push(slot)
    return slot
  }

  function pump (): void {
    if (closed) return
    while (queue.length > 0) {
      const slot = slots.find((s) => s.task === undefined) ?? (slots.length < threads ? spawn() : undefined)
      if (slot === undefined) break
      const task = queue.shift() as Task
      slot.task = task
      slot.worker.ref()
      slot.worker.postMessage(task.message)
    }
    for (const s of slots) if (s.task === undefined) s.worker.unref()
  }

  return {
    threads,
    check (setup: BatchSetup, batch: RecordBatch) {
      if (closed) return Promise.reject(new Error('the line-checking threads are closed'))
      let setupId = setupIds.get(setup)
      if (setupId === undefined) {
        setupId = nextSetupId++
        setupIds.set(setup, setupId)
      }
      const message: CheckTask = { setupId, setup, batch }
      return new Promise<CheckedLines>((resolve, reject) => {
        queue.push({ message, resolve, reject })
        pump()
      })
    },
    async close () {
      closed = true
      const closedError = new Error('the line-checking threads are closed')
      for (const t of queue.splice(0)) t.reject(closedError)
      const stopping = slots.splice(0)
      for (const s of stopping) s.task?.reject(closedError)
      await Promise.all(stopping.map((s) => s.worker.terminate()))
    },
  }
}
