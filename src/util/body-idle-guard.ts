import { Transform, type Readable } from 'node:stream'

/** Fastify checks the body limit against this count when a preParsing hook replaces the body stream. */
export type GuardedBody = Transform & { receivedEncodedLength: number }

/**
 * Passes a request body through unchanged and fails it with `idle()`'s error when no byte has
 * arrived for `idleMs`: a client that stops half-way through an upload cannot keep its connection
 * (and a check its slot) for as long as the whole-request timeout allows.
 */
export function guardBodyIdle (source: Readable, idleMs: number, idle: () => Error): GuardedBody {
  const guarded = new Transform({
    transform (chunk: Buffer, _encoding, done) {
      timer.refresh()
      guarded.receivedEncodedLength += chunk.length
      done(null, chunk)
    },
    flush (done) {
      clearTimeout(timer)
      done()
    },
  }) as GuardedBody
  guarded.receivedEncodedLength = 0
  const timer = setTimeout(() => {
    source.unpipe(guarded)
    guarded.destroy(idle())
  }, idleMs)
  guarded.once('close', () => clearTimeout(timer))
  source.once('error', (err) => guarded.destroy(err))
  source.pipe(guarded)
  return guarded
}
