import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import pino from 'pino'
import type { Db } from '../../src/db/db.js'
import { findImport, type ImportRow } from '../../src/db/imports-repository.js'
import { createBullmqProducer, type BullBackend } from '../../src/jobs/bullmq-queue.js'
import type { ImportQueue } from '../../src/jobs/queue.js'
import { acceptImport } from '../../src/provisioning/intake.js'
import { TEST_JWT_SECRET, TEST_SECRETS_KEY } from '../helpers/app.js'
import { reachedLeg } from '../helpers/legs.js'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'

// Real worker processes (`src/worker.ts`) on real PostgreSQL and Redis. The test process stores the
// import as the API would and enqueues it; everything after that happens in the children.

export const PASSWORD_EVERY = 10
export const passwordOf = (i: number) => i % PASSWORD_EVERY === 0 ? `Str0ng!Pass${i}` : ''

/** In CI the Redis leg is not optional. */
export function redisUrlOrFail (): string | undefined {
  if (process.env.CI === 'true' && !process.env.REDIS_URL) throw new Error('CI=true but REDIS_URL is not set: the BullMQ-on-Redis leg would be skipped')
  return process.env.REDIS_URL
}

export const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null

export interface WorkerSetup { databaseUrl: string, backend: BullBackend['kind'], redisUrl?: string, prefix: string, extraEnv?: Record<string, string> }

export function startWorker (s: WorkerSetup, track: Proc[]): Proc {
  if (s.backend === 'bullmq-redis') reachedLeg('redis')
  return spawnNode(['--import', 'tsx', 'src/worker.ts'], childEnv({
    DATABASE_URL: s.databaseUrl,
    ...(s.backend === 'bullmq-redis' ? { REDIS_URL: s.redisUrl! } : {}),
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_KEY: TEST_SECRETS_KEY,
    MIGRATE_ON_START: 'false',
    QUEUE_PREFIX: s.prefix,
    IMPORT_CHUNK_SIZE: '25',
    HASH_THREADS: '1',
    SHUTDOWN_TIMEOUT: '5',
    ...s.extraEnv,
  }), track)
}

export async function waitForBanner (p: Proc, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!p.out.stdout.includes('massprov worker started')) {
    if (!alive(p)) throw new Error(`worker exited before starting\nstdout: ${p.out.stdout}\nstderr: ${p.out.stderr}`)
    if (Date.now() > deadline) throw new Error(`worker not started after ${ms} ms\nstderr: ${p.out.stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export function uniquePrefix (): string {
  return `mpt-${randomBytes(5).toString('hex')}`
}

export function producer (s: WorkerSetup): ImportQueue {
  if (s.backend === 'bullmq-redis') reachedLeg('redis')
  const backend: BullBackend = s.backend === 'bullmq-redis' ? { kind: 'bullmq-redis', url: s.redisUrl! } : { kind: 'bullmq-postgres', url: s.databaseUrl }
  return createBullmqProducer(backend, s.prefix, pino({ level: 'silent' }))
}

/** Stores a create file of `lines` users (a password on one line in PASSWORD_EVERY) as POST /users/imports does. */
export async function storeCreateFile (db: Db, companyId: string, requesterId: string, lines: number): Promise<{ reqId: string, emails: string[] }> {
  const tag = randomBytes(4).toString('hex')
  const emails = Array.from({ length: lines }, (_, i) => `w-${i}-${tag}@example.com`)
  const body = ['__action__;loginEmail;password;firstName', ...emails.map((e, i) => `create;${e};${passwordOf(i)};User${i}`)].join('\n') + '\n'
  const summary = await acceptImport(db, {
    companyId,
    operation: 'import',
    body: new TextEncoder().encode(body),
    label: 'workers',
    noemails: true,
    nostrict: false,
    requester: { id: requesterId, displayName: 'Admin', jid: '' },
    // The job under test, not the deletion safeguard of the route (MAX_DELETE_PERCENT=100 is off).
    caller: { id: requesterId, rank: 1 },
    maxDeletePercent: 100,
  })
  return { reqId: summary.reqId, emails }
}

/** Enqueues, retrying while the queue is not reachable yet (a producer without an offline queue fails fast). */
export async function enqueueSoon (queue: ImportQueue, job: { reqId: string, companyId: string }, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await queue.enqueue(job)
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

export async function pollImport (db: Db, reqId: string, ms: number, done: (imp: ImportRow) => boolean): Promise<ImportRow> {
  const deadline = Date.now() + ms
  let last: ImportRow | undefined
  while (Date.now() < deadline) {
    last = await findImport(db, reqId)
    if (last && done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`import ${reqId} did not reach the expected state within ${ms} ms; last: ${JSON.stringify(last)}`)
}

export interface AppliedFigures { lines: number, appliedOnce: number, duplicates: number }

/** Every line applied exactly once, the counters exact, one user per e-mail, each the line's user. */
export async function expectAppliedOnce (db: Db, reqId: string, emails: string[]): Promise<AppliedFigures> {
  const imp = (await findImport(db, reqId))!
  expect(imp.status).toBe('Terminated')
  expect({ processed: imp.processed, succeeded: imp.succeeded, failed: imp.failed, warnings: imp.warnings, total: imp.total })
    .toEqual({ processed: emails.length, succeeded: emails.length, failed: 0, warnings: 0, total: emails.length })
  const lines = await db.query<{ seq: number, status: string, userId: string, applied: boolean, hasPassword: boolean }>(
    `SELECT l.seq, r.status, r.user_id AS "userId", r.applied_at IS NOT NULL AS applied, l.input #> '{values,password}' IS NOT NULL AS "hasPassword"
       FROM import_lines l LEFT JOIN import_line_results r ON r.req_id = l.req_id AND r.seq = l.seq WHERE l.req_id = $1 ORDER BY l.seq`, [reqId])
  expect(lines).toHaveLength(emails.length)
  expect(lines.filter((l) => !(l.status === 'success' && l.applied && l.userId && !l.hasPassword))).toEqual([])
  const users = await db.query<{ email: string, ids: string[] }>(
    'SELECT login_email AS email, array_agg(id) AS ids FROM users WHERE login_email = ANY($1::text[]) GROUP BY login_email', [emails])
  expect(users).toHaveLength(emails.length)
  expect(users.filter((u) => u.ids.length !== 1)).toEqual([])
  const byEmail = new Map(users.map((u) => [u.email, u.ids[0]!.trim()]))
  expect(lines.map((l) => l.userId.trim())).toEqual(emails.map((e) => byEmail.get(e)))
  const idsOf = new Map(users.map((u) => [u.email, u.ids.map((id) => id.trim())]))
  const appliedOnce = lines.filter((l, i) => {
    const ids = idsOf.get(emails[i]!)
    return l.status === 'success' && l.applied && ids?.length === 1 && ids[0] === l.userId.trim()
  }).length
  return { lines: emails.length, appliedOnce, duplicates: users.reduce((n, u) => n + u.ids.length - 1, 0) }
}

export function sumApplied (list: AppliedFigures[]): AppliedFigures {
  return list.reduce((a, b) => ({ lines: a.lines + b.lines, appliedOnce: a.appliedOnce + b.appliedOnce, duplicates: a.duplicates + b.duplicates }))
}

export async function stopAll (procs: Proc[]): Promise<void> {
  for (const p of procs) if (alive(p)) p.child.kill('SIGKILL')
  await Promise.all(procs.map((p) => within(10_000, 'child exit', p.exited).catch(() => {})))
}
