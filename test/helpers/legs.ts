import { afterEach } from 'vitest'

/** The services a test can reach besides PGlite; .ci/run fails when one of them ran no test. */
export type Leg = 'postgres' | 'redis' | 'xmpp'

// One set per test file (the forks pool runs each file in its own module graph): a service once
// reached in a file counts for every test of that file that ends afterwards.
const reached = new Set<Leg>()

/** Called by the helpers that really connect to a service (a database opened, a worker started on Redis, prosody up). */
export function reachedLeg (leg: Leg): void {
  reached.add(leg)
}

/** setupFiles: each test carries the legs reached so far in `task.meta.legs`, which the JSON reporter keeps. */
export function recordLegs (): void {
  afterEach(({ task }) => {
    if (reached.size > 0) (task.meta as { legs?: Leg[] }).legs = [...reached].sort()
  })
}
