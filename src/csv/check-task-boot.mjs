// piscina's filename for the line-checking threads under tsx and vitest, whose loaders a worker
// thread does not get on Node 20 (not even from execArgv): registers tsx, then loads check-task.ts.
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
