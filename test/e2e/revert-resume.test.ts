import { afterAll, describe, expect, it } from 'vitest'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPglite } from '../../src/db/pglite.js'

// Issue 18 item 4: kill -9 of the embedded server in the middle of a revert, then a restart on the
// same DATA_DIR: the revert resumes from the database and every line is undone exactly once. Real
// processes, real port, real files; everything bounded in time.

const MP = '/api/rainbow/massprovisioning/v1.0'
const LINES = 300
/** The whole scenario: two server starts, two imports, the revert, the checks (the file stays under 120 s with its cleanup). */
const BUDGET_MS = 100_000
interface Counters { succeeded: number, failed: number, warnings: number, total: number, processed?: number }
interface Details { reqId: string, status: string, operation?: string, reverts?: string, revertedBy?: string | null, counters: Counters, report?: Array<{ lineNumber: number, action: string, loginEmail: string, status: string, userId?: string, errorCode?: number }> }

const procs: Proc[] = []

function startServer (dataDir: string): Proc {
  return spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({ DATA_DIR: dataDir, PORT: '0', IMPORT_CHUNK_SIZE: '10' }), procs)
}

const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null

/** Waits for the banner; returns the URL and the demo credentials it prints. */
async function banner (p: Proc, ms: number): Promise<{ url: string, login: string, password: string }> {
  const deadline = Date.now() + ms
  for (;;) {
    const s = p.out.stdout
    const url = /massprov is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(s)?.[1]
    const login = /^ {2}login: +(\S+)$/m.exec(s)?.[1]
    const password = /^ {2}password: +(\S+)$/m.exec(s)?.[1]
    if (url && login && password) return { url, login, password }
    if (!alive(p)) throw new Error(`server exited before its banner\nstdout: ${p.out.stdout}\nstderr: ${p.out.stderr}`)
    if (Date.now() > deadline) throw new Error(`no banner after ${ms} ms\nstdout: ${p.out.stdout}\nstderr: ${p.out.stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function login (url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/rainbow/authentication/v1.0/login`, { headers: { authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` } })
  expect(res.status).toBe(200)
  return (await res.json() as { token: string }).token
}

async function details (url: string, token: string, reqId: string, format: 'small' | 'full'): Promise<Details> {
  const res = await fetch(`${url}${MP}/users/imports/${reqId}/details?format=${format}`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
  return (await res.json() as { data: Details }).data
}

/** Polls the small report until `done` holds; fails with the last answer when the time is up. */
async function pollUntil (url: string, token: string, reqId: string, ms: number, done: (d: Details) => boolean): Promise<Details> {
  const deadline = Date.now() + ms
  let last: Details | undefined
  while (Date.now() < deadline) {
    last = await details(url, token, reqId, 'small')
    if (done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`import ${reqId} did not reach the expected state within ${ms} ms; last: ${JSON.stringify(last)}`)
}

describe('embedded server: kill -9 during a revert, restart, the revert resumes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-revert-resume-'))

  afterAll(async () => {
    for (const p of procs) if (alive(p)) p.child.kill('SIGKILL')
    await Promise.all(procs.map((p) => within(10_000, 'child exit', p.exited).catch(() => {})))
    rmSync(dataDir, { recursive: true, force: true })
  }, 20_000)

  async function post (url: string, token: string, path: string, body?: string): Promise<{ reqId: string, status: string }> {
    const res = await fetch(`${url}${MP}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'text/csv; charset=utf-8' }) },
      ...(body === undefined ? {} : { body }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json() as { data: { reqId: string, status: string } }).data
  }

  async function firstNames (url: string, token: string): Promise<Map<string, string[]>> {
    const listed = new Map<string, string[]>()
    for (let offset = 0; ; offset += 1000) {
      const res = await fetch(`${url}/api/rainbow/admin/v1.0/users?limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(200)
      const page = await res.json() as { data: Array<{ loginEmail: string, firstName: string }>, total: number }
      for (const u of page.data) listed.set(u.loginEmail, [...(listed.get(u.loginEmail) ?? []), u.firstName])
      if (offset + 1000 >= page.total) break
    }
    return listed
  }

  it(`a ${LINES}-line update import reverted: every line undone exactly once across the crash`, async ({ task }) => {
    const deadline = Date.now() + BUDGET_MS
    const left = () => Math.max(deadline - Date.now(), 1)
    const first = startServer(dataDir)
    const b1 = await banner(first, left())
    const token1 = await login(b1.url, b1.login, b1.password)

    const tag = Date.now().toString(36)
    const emails = Array.from({ length: LINES }, (_, i) => `revert-${i}-${tag}@example.com`)
    const created = await post(b1.url, token1, '/users/imports', ['__action__;loginEmail;firstName', ...emails.map((e, i) => `create;${e};Before${i}`)].join('\n') + '\n')
    expect((await pollUntil(b1.url, token1, created.reqId, left(), (d) => d.status !== 'Pending')).status).toBe('Terminated')
    const updateStarted = Date.now()
    const updated = await post(b1.url, token1, '/users/imports', ['__action__;loginEmail;firstName', ...emails.map((e, i) => `update;${e};After${i}`)].join('\n') + '\n')
    expect((await pollUntil(b1.url, token1, updated.reqId, left(), (d) => d.status !== 'Pending')).counters.succeeded).toBe(LINES)
    const updateMs = Date.now() - updateStarted

    const revert = await post(b1.url, token1, `/users/imports/${updated.reqId}/revert`)
    expect(revert.status).toBe('Pending')
    // A third of the way through (it costs about what the update import cost), the process dies
    // without any chance to clean up. Timed, not polled: without password hashing, PGlite's one
    // connection serves the job's chunks back to back and a report request waits for the end.
    await new Promise((resolve) => setTimeout(resolve, updateMs / 3))
    const killedAt = Date.now()
    first.child.kill('SIGKILL')
    expect((await within(10_000, 'kill -9 exit', first.exited)).signal).toBe('SIGKILL')
    // What the revert had committed, read from the data directory itself.
    const files = await openPglite(join(dataDir, 'pgdata'))
    const [midway] = await files.query<{ status: string, processed: number }>('SELECT status, processed FROM imports WHERE req_id = $1', [revert.reqId])
    await files.close()
    expect(midway!.status).toBe('Pending')
    expect(midway!.processed).toBeGreaterThan(0)
    expect(midway!.processed).toBeLessThan(LINES)

    const second = startServer(dataDir)
    const b2 = await banner(second, left())
    const token2 = await login(b2.url, b2.login, b2.password)
    const done = await pollUntil(b2.url, token2, revert.reqId, left(), (d) => d.status !== 'Pending')
    const recoveryMs = Date.now() - killedAt
    expect(done).toMatchObject({ status: 'Terminated', operation: 'revert', reverts: updated.reqId })
    expect(done.counters).toEqual({ succeeded: LINES, failed: 0, warnings: 0, total: LINES })

    // One result per line, last line first, each for its own user.
    const full = await details(b2.url, token2, revert.reqId, 'full')
    expect(full.report!.map((r) => r.lineNumber)).toEqual(emails.map((_, i) => LINES + 1 - i))
    expect(full.report!.every((r) => r.status === 'success' && r.errorCode === undefined)).toBe(true)
    expect(new Set(full.report!.map((r) => r.userId)).size).toBe(LINES)
    // Every user is back to its name before the update import, and exists once.
    const names = await firstNames(b2.url, token2)
    const restored = emails.filter((e, i) => names.get(e)?.length === 1 && names.get(e)![0] === `Before${i}`).length
    expect(restored).toBe(LINES)
    expect((await details(b2.url, token2, updated.reqId, 'small')).revertedBy).toBe(revert.reqId)
    report(task, { lines: LINES, processedAtKill: midway!.processed, recoveryMs, restored })

    second.child.kill('SIGTERM')
    expect((await within(Math.min(left(), 10_000), 'SIGTERM exit', second.exited)).code).toBe(0)
  }, BUDGET_MS + 5_000)
})
