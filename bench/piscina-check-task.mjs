// piscina's filename for bench/piscina-check-pool.ts: under tsx a worker thread gets no loader on
// Node 20 (not even from execArgv), so this registers tsx, then loads src/csv/check-task.ts.
// Plain JavaScript without top-level await, so that piscina's require() of it succeeds.
import { workerData } from 'node:worker_threads'

let loading

export default async function checkTask (task) {
  loading ??= (async () => {
    (await import(workerData.tsx)).register()
    return (await import(workerData.entry)).default
  })()
  return (await loading)(task)
}
