import { parentPort } from 'node:worker_threads'
import checkTask, { type CheckTask } from './check-task.js'

const port = parentPort
if (port === null) throw new Error('check-worker.ts runs in a worker thread (see check-pool.ts)')

// checkTask answers a failure of the batch as a reply; what it throws at once stops this thread (check-pool.ts).
port.on('message', async (task: CheckTask) => port.postMessage(await checkTask(task)))
