import { afterAll, describe, expect, it } from 'vitest'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { report } from '../helpers/reliability.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// kill -9 of the embedded server in the middle of an import, then a restart on the same DATA_DIR:
// the import resumes from the database and every line is applied exactly once. Real processes, real
// port, real files; everything bounded in time.

const MP = '/api/rainbow/massprovisioning/v1.0'
const LINES = 2000
// argon2id (OWASP parameters) costs ~30 ms of CPU per hash: on a 2-core CI box a password on every
// line takes a minute alone, two under load. One line in 10 keeps the import several seconds long (so
// the kill lands half-way) and the whole file inside its time bound.
const PASSWORD_EVERY = 10
/** The whole scenario: two server starts, the import, the checks (the file stays under 120 s with its cleanup). */
const BUDGET_MS = 100_000
const passwordOf = (i: number) => i % PASSWORD_EVERY === 0 ? `Str0ng!Pass${i}` : ''
interface Counters { succeeded: number, failed: number, warnings: number, total: number, processed?: number }
interface Details { reqId: string, status: string, counters: Counters, report?: Array<{ lineNumber: number, action: string, loginEmail: string, status: string, userId?: string, errorCode?: number }> }

const procs: Proc[] = []

function startServer (dataDir: string): Proc {
  return spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({ DATA_DIR: dataDir, PORT: '0', IMPORT_CHUNK_SIZE: '50' }), procs)
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

describe('embedded server: kill -9 during an import, restart, the import resumes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-import-resume-'))

  afterAll(async () => {
    for (const p of procs) if (alive(p)) p.child.kill('SIGKILL')
    await Promise.all(procs.map((p) => within(10_000, 'child exit', p.exited).catch(() => {})))
    rmSync(dataDir, { recursive: true, force: true })
  }, 20_000)

  it(`a ${LINES}-line create file (with passwords): every line applied exactly once across the crash`, async ({ task }) => {
    // One budget for the whole scenario, whatever step is slow on a loaded machine.
    const deadline = Date.now() + BUDGET_MS
    const left = () => Math.max(deadline - Date.now(), 1)
    const first = startServer(dataDir)
    const b1 = await banner(first, left())
    const token1 = await login(b1.url, b1.login, b1.password)

    const tag = Date.now().toString(36)
    const emails = Array.from({ length: LINES }, (_, i) => `resume-${i}-${tag}@example.com`)
    const body = ['__action__;loginEmail;password;firstName', ...emails.map((e, i) => `create;${e};${passwordOf(i)};User${i}`)].join('\n') + '\n'
    const posted = await fetch(`${b1.url}${MP}/users/imports?label=resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token1}`, 'content-type': 'text/csv; charset=utf-8' },
      body,
    })
    expect(posted.status).toBe(200)
    const { reqId, status } = (await posted.json() as { data: { reqId: string, status: string } }).data
    expect(status).toBe('Pending')

    // Half-way (some chunks committed, not all), the process dies without any chance to clean up.
    const midway = await pollUntil(b1.url, token1, reqId, left(), (d) => d.status !== 'Pending' || (d.counters.processed ?? 0) >= LINES / 2)
    const killedAt = Date.now()
    first.child.kill('SIGKILL')
    expect((await within(10_000, 'kill -9 exit', first.exited)).signal).toBe('SIGKILL')
    expect(midway.status).toBe('Pending')
    expect(midway.counters.processed).toBeLessThan(LINES)
    expect(midway.counters.total).toBe(LINES)

    // Same DATA_DIR: the stale lock is taken over, the Pending import is queued again at start-up.
    const second = startServer(dataDir)
    const b2 = await banner(second, left())
    const restartMs = Date.now() - killedAt
    const token2 = await login(b2.url, b2.login, b2.password)
    const resumed = await details(b2.url, token2, reqId, 'small')
    // Nothing committed before the kill is lost.
    expect(resumed.counters.processed ?? resumed.counters.total).toBeGreaterThanOrEqual(midway.counters.processed!)
    const done = await pollUntil(b2.url, token2, reqId, left(), (d) => d.status !== 'Pending')
    const recoveryMs = Date.now() - killedAt
    expect(done.status).toBe('Terminated')
    expect(done.counters).toEqual({ succeeded: LINES, failed: 0, warnings: 0, total: LINES })

    // One success per line, in file order, each with its own user.
    const full = await details(b2.url, token2, reqId, 'full')
    expect(full.report).toHaveLength(LINES)
    expect(full.report!.map((r) => r.lineNumber)).toEqual(emails.map((_, i) => i + 2))
    expect(full.report!.every((r, i) => r.status === 'success' && r.action === 'create' && r.loginEmail === emails[i] && r.userId && r.errorCode === undefined)).toBe(true)
    const reportIds = new Set(full.report!.map((r) => r.userId))
    expect(reportIds.size).toBe(LINES)

    // And the company holds each of them once, as those very users.
    const listed = new Map<string, string[]>()
    for (let offset = 0; ; offset += 1000) {
      const res = await fetch(`${b2.url}/api/rainbow/admin/v1.0/users?limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${token2}` } })
      expect(res.status).toBe(200)
      const page = await res.json() as { data: Array<{ id: string, loginEmail: string }>, total: number }
      for (const u of page.data) listed.set(u.loginEmail, [...(listed.get(u.loginEmail) ?? []), u.id])
      if (offset + 1000 >= page.total) break
    }
    for (const e of emails) expect(listed.get(e), e).toHaveLength(1)
    const ours = emails.map((e) => listed.get(e)![0])
    expect(new Set(ours)).toEqual(reportIds)
    const appliedOnce = emails.filter((e, i) => listed.get(e)?.length === 1 && full.report![i]!.status === 'success' && full.report![i]!.userId === listed.get(e)![0]).length
    const duplicates = emails.reduce((n, e) => n + (listed.get(e)?.length ?? 1) - 1, 0)

    // The imported passwords work: the first user's (applied before the kill) and the last one's (after).
    const lastWithPassword = LINES - 1 - ((LINES - 1) % PASSWORD_EVERY)
    for (const i of [0, lastWithPassword]) expect(await login(b2.url, emails[i]!, passwordOf(i))).toMatch(/^ey/)
    report(task, { lines: LINES, processedAtKill: midway.counters.processed!, restartMs, recoveryMs, appliedOnce, duplicates })

    second.child.kill('SIGTERM')
    expect((await within(Math.min(left(), 10_000), 'SIGTERM exit', second.exited)).code).toBe(0)
  }, BUDGET_MS + 5_000)
})
