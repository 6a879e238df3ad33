import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { ARGON2ID_OPTIONS } from './passwords.js'

/** Bulk password hashing (imports) on a fixed number of threads. */
export interface PasswordHasher {
  readonly threads: number
  /** Rejects with the signal's reason when aborted before a thread takes it. */
  hash: (password: string, signal?: AbortSignal) => Promise<string>
  close: () => Promise<void>
}

interface Task { password: string, resolve: (hash: string) => void, reject: (err: Error) => void, signal: AbortSignal | undefined }
interface Slot { worker: Worker, tasks: Task[] }

/**
 * Passwords handed to a thread at once (about a second of work): the thread goes on hashing while the
 * event loop is busy (PGlite runs its statements on it), instead of waiting for each next password.
 */
const BATCH = 64

// The worker is plain CommonJS evaluated from a string, so the same code runs under tsx and from dist/.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads')
const { hashSync } = require(workerData.argon2)
parentPort.on('message', (passwords) => {
  for (const password of passwords) {
    try { parentPort.postMessage({ hash: hashSync(password, workerData.options) }) } catch (err) { parentPort.postMessage({ error: String(err && err.message) }) }
  }
})`

/**
 * `threads` worker threads, each hashing one password after the other with the synchronous binding: the
 * hashing concurrency is exactly `threads`, whatever UV_THREADPOOL_SIZE is, and never the event
 * loop. Sized below the core count so the HTTP side keeps a core (field notes: hashing on every core
 * starves the API). Idle threads are unref'd and do not keep the process alive.
 */
export function createHashPool (threads: number): PasswordHasher {
  const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2')
  const slots: Slot[] = []
  const queue: Task[] = []
  let closed = false

  function spawn (): Slot {
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { argon2, options: ARGON2ID_OPTIONS } })
    const slot: Slot = { worker, tasks: [] }
    worker.on('message', (m: { hash?: string, error?: string }) => {
      const task = slot.tasks.shift()
      if (m.hash !== undefined) task?.resolve(m.hash)
      else task?.reject(new Error(`password hashing failed: ${m.error ?? 'unknown error'}`))
      if (slot.tasks.length === 0) pump()
    })
    worker.on('error', (err) => {
      for (const t of slot.tasks.splice(0)) t.reject(err)
      slots.splice(slots.indexOf(slot), 1)
      pump()
    })
    worker.unref()
    slots.push(slot)
    return slot
  }

  // One listener per signal, not per hash (an import queues a whole chunk under one signal): on
  // abort its queued hashes are dropped at once; those already handed to a thread complete.
  const watched = new WeakSet<AbortSignal>()
  function watch (signal: AbortSignal): void {
    if (watched.has(signal)) return
    watched.add(signal)
    signal.addEventListener('abort', () => {
      const dropped = queue.filter((t) => t.signal === signal)
      queue.splice(0, queue.length, ...queue.filter((t) => t.signal !== signal))
      for (const t of dropped) t.reject(abortError(signal))
    }, { once: true })
  }

  function pump (): void {
    if (closed) return
    while (queue.length > 0) {
      const slot = slots.find((s) => s.tasks.length === 0) ?? (slots.length < threads ? spawn() : undefined)
      if (!slot) break
      const batch = queue.splice(0, Math.min(BATCH, Math.ceil(queue.length / threads)))
      for (const task of batch) {
        if (task.signal?.aborted) task.reject(abortError(task.signal))
        else slot.tasks.push(task)
      }
      if (slot.tasks.length === 0) continue
      slot.worker.ref()
      slot.worker.postMessage(slot.tasks.map((t) => t.password))
    }
    for (const s of slots) if (s.tasks.length === 0) s.worker.unref()
  }

  return {
    threads,
    hash (password, signal) {
      if (closed) return Promise.reject(new Error('the hashing pool is closed'))
      if (signal?.aborted) return Promise.reject(abortError(signal))
      return new Promise<string>((resolve, reject) => {
        const task: Task = { password, resolve, reject, signal }
        if (signal) watch(signal)
        queue.push(task)
        pump()
      })
    },
    async close () {
      closed = true
      const closedError = new Error('the hashing pool is closed')
      for (const t of queue.splice(0)) t.reject(closedError)
      for (const s of slots) for (const t of s.tasks.splice(0)) t.reject(closedError)
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()))
    },
  }
}

function abortError (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}
