import { connect, type Socket } from 'node:net'

/** A client that speaks HTTP/1.1 by hand, so a test can stop or hang up at any byte. */
export interface RawClient {
  socket: Socket
  /** Everything the server sent so far. */
  received: () => string
  /** Resolves when the server (or the client) has closed the connection, with the time it took. */
  closed: Promise<{ afterMs: number }>
}

/** `read: false`: the client reads nothing, so a large answer backs up on the server. */
export async function rawClient (port: number, { read = true } = {}): Promise<RawClient> {
  const started = Date.now()
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  if (read) socket.on('data', (c: Buffer) => chunks.push(c))
  else socket.pause()
  // A reset from the server is one way of closing; the test looks at when, not how.
  socket.on('error', () => socket.destroy())
  const closed = new Promise<{ afterMs: number }>((resolve) => socket.once('close', () => resolve({ afterMs: Date.now() - started })))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed }
}

export function requestHead (method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return lines.join('\r\n') + '\r\n\r\n'
}

/** Resolves with `closed` if the connection ends within `ms`, else with 'open'. */
export async function closedWithin (client: RawClient, ms: number): Promise<{ afterMs: number } | 'open'> {
  let timer: NodeJS.Timeout | undefined
  const open = new Promise<'open'>((resolve) => { timer = setTimeout(() => resolve('open'), ms) })
  try {
    return await Promise.race([client.closed, open])
  } finally {
    clearTimeout(timer)
  }
}

export async function until (condition: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
