import { parentPort } from 'node:worker_threads'
import checkTask, { type CheckTask } from './check-task.js'

const port = parentPort
if (port === null) throw new Error('check-worker.ts runs in a worker thread (see check-pool.ts)')

port.on('message', (task: CheckTask) => {
  checkTask(task).then((reply) => port.postMessage(reply))
})
