import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { OPERATOR, TEST_METRICS_TOKEN } from '../helpers/app.js'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

// The server as `npm start` runs it, on a fresh embedded data directory: a real process, real port, real files.

const PASSWORD_RE = /^\S{9,}$/
const ID_RE = /^[0-9a-f]{24}$/
const procs: Proc[] = []

function startServer (dataDir: string): Proc {
  return spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({ DATA_DIR: dataDir, PORT: '0', METRICS_TOKEN: TEST_METRICS_TOKEN }), procs)
}

interface Banner { url: string, login?: string, password?: string, companyId?: string, tokenLine?: string, usersLine?: string }

/** Resolves once the whole banner is on stdout; rejects with the output if the process exits first. */
async function banner (p: Proc, ms = 45_000): Promise<Banner> {
  const complete = () => {
    const s = p.out.stdout
    const at = s.indexOf('massprov is listening on ')
    return at >= 0 && /\/api\/rainbow\/admin\/v1\.0\/users\n|Log in: curl[^\n]*\n/.test(s.slice(at))
  }
  await within(ms, 'server banner', new Promise<void>((resolve, reject) => {
    const onData = () => { if (complete()) { cleanup(); resolve() } }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`server exited (${code}) before its banner\nstdout: ${p.out.stdout}\nstderr: ${p.out.stderr}`))
    }
    const cleanup = () => { p.child.stdout!.off('data', onData); p.child.off('exit', onExit) }
    p.child.stdout!.on('data', onData)
    p.child.on('exit', onExit)
    onData()
  }))
  const s = p.out.stdout
  const pick = (re: RegExp) => re.exec(s)?.[1]
  return {
    url: pick(/massprov is listening on (http:\/\/127\.0\.0\.1:\d+)/)!,
    login: pick(/^ {2}login: +(\S+)$/m),
    password: pick(/^ {2}password: +(\S+)$/m),
    companyId: pick(/^ {2}companyId: +(\S+)$/m),
    tokenLine: pick(/^ {2}(TOKEN=\$\(curl .*)$/m),
    usersLine: pick(/^ {2}(curl -s -H "Authorization: Bearer \$TOKEN" .*)$/m),
  }
}

async function loginStatus (url: string, login: string, password: string): Promise<{ status: number, token?: string }> {
  const res = await fetch(`${url}/api/rainbow/authentication/v1.0/login`, {
    headers: { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
  })
  const body = await res.json() as { token?: string }
  return { status: res.status, token: body.token }
}

async function users (url: string, token: string): Promise<{ status: number, body: { data?: Array<{ id: string, loginEmail: string, companyId: string }>, total?: number } }> {
  const res = await fetch(`${url}/api/rainbow/admin/v1.0/users`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, body: await res.json() as never }
}

function alive (p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null
}

describe('embedded server process (npm start on a fresh DATA_DIR)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'massprov-e2e-'))
  let first: Proc
  let firstBanner: Banner
  let firstToken: string

  beforeAll(async () => {
    first = startServer(dataDir)
    firstBanner = await banner(first)
  }, 60_000)

  afterAll(async () => {
    for (const p of procs) if (alive(p)) p.child.kill('SIGKILL')
    await Promise.all(procs.map((p) => within(10_000, 'child exit', p.exited).catch(() => {})))
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints where it listens and the demo credentials on first start', () => {
    expect(firstBanner.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
    expect(first.out.stdout).toContain(`(database: pglite in ${dataDir})`)
    expect(first.out.stdout).toContain(`Open the console: ${firstBanner.url}/console\n`)
    expect(firstBanner.login).toBe('admin@demo.example.com')
    expect(firstBanner.password).toMatch(PASSWORD_RE)
    expect(firstBanner.companyId).toMatch(ID_RE)
    expect(firstBanner.tokenLine).toContain(`${firstBanner.url}/api/rainbow/authentication/v1.0/login`)
    expect(existsSync(join(dataDir, 'demo-credentials.json'))).toBe(true)
    expect(readFileSync(join(dataDir, 'massprov.pid'), 'utf8')).toBe(String(first.child.pid))
  })

  it('the printed curl lines log in and list the demo company\'s users', async () => {
    // `tee /dev/stderr` cannot open the socket Node gives a child as stderr (ENXIO), as it can a
    // terminal: stderr goes to a file.
    const errFile = join(dataDir, 'curl-stderr.txt')
    const script = `exec 2>'${errFile}'\nset -e\n${firstBanner.tokenLine}\ntest -n "$TOKEN"\n${firstBanner.usersLine}\n`
    // `node` in the printed pipeline must be this Node; curl only talks to 127.0.0.1.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }
    const { stdout } = await promisify(execFile)('/bin/bash', ['-c', script], { env, timeout: 20_000 })
    const loginAnswer = JSON.parse(readFileSync(errFile, 'utf8')) as { token: string, loggedInUser: { loginEmail: string } }
    expect(loginAnswer.loggedInUser.loginEmail).toBe('admin@demo.example.com')
    firstToken = loginAnswer.token
    const list = JSON.parse(stdout) as { data: Array<{ loginEmail: string, companyId: string }>, total: number }
    expect(list.total).toBe(1)
    expect(list.data).toEqual([expect.objectContaining({ loginEmail: 'admin@demo.example.com', companyId: firstBanner.companyId })])
    expect(stdout).not.toMatch(/password/i)
  })

  it('answers /health and /ready (with a database check for an operator, up or down only for anyone)', async () => {
    const health = await fetch(`${firstBanner.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const anonymous = await fetch(`${firstBanner.url}/ready`)
    expect(anonymous.status).toBe(200)
    expect(await anonymous.json()).toEqual({ status: 'ready' })
    const ready = await fetch(`${firstBanner.url}/ready`, { headers: OPERATOR })
    expect(ready.status).toBe(200)
    const body = await ready.json() as { status: string, checks: Array<{ name: string, ok: boolean }> }
    expect(body.status).toBe('ready')
    expect(body.checks).toContainEqual(expect.objectContaining({ name: 'database', ok: true }))
  })

  it('a second server or a CLI on the same DATA_DIR refuses to start, naming the holder\'s pid', async () => {
    const second = startServer(dataDir)
    const cli = spawnNode(['bin/massprov.js', 'list-users', '--company', firstBanner.companyId!], childEnv({ DATA_DIR: dataDir }), procs)
    const [s, c] = await within(20_000, 'second process exit', Promise.all([second.exited, cli.exited]))
    const inUse = new RegExp(`data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another massprov process \\(pid ${first.child.pid}\\)`)
    expect(s.code).toBe(1)
    expect(second.out.stderr).toMatch(inUse)
    expect(second.out.stdout).not.toContain('listening')
    expect(c.code).toBe(1)
    expect(cli.out.stderr).toMatch(inUse)
    expect(cli.out.stdout).toBe('')
    // The losers left the lock and the running server alone.
    expect(readFileSync(join(dataDir, 'massprov.pid'), 'utf8')).toBe(String(first.child.pid))
    expect((await fetch(`${firstBanner.url}/health`)).status).toBe(200)
  })

  it('stops on SIGTERM within a few seconds and releases the data directory', async () => {
    const t0 = Date.now()
    first.child.kill('SIGTERM')
    const { code, signal } = await within(8_000, 'SIGTERM exit', first.exited)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(Date.now() - t0).toBeLessThan(8_000)
    expect(existsSync(join(dataDir, 'massprov.pid'))).toBe(false)
    await expect(fetch(`${firstBanner.url}/health`)).rejects.toThrow()
  })

  it('restarts on the same DATA_DIR without seeding again; rows and secrets survive', async () => {
    const cli = async (args: string[], env: Record<string, string> = {}) => {
      const p = spawnNode(['bin/massprov.js', ...args], childEnv({ DATA_DIR: dataDir, ...env }), procs)
      const { code } = await within(30_000, `massprov ${args[0]}`, p.exited)
      expect(code, p.out.stderr).toBe(0)
      return JSON.parse(p.out.stdout) as Record<string, string>
    }
    // PGlite is one process per directory: the CLI writes while the server is down.
    const { companyId } = await cli(['create-company', '--name', 'Survivor Co'])
    const { userId } = await cli(['create-admin', '--company', companyId!, '--email', 'survivor@example.com', '--role', 'company_admin'], { MASSPROV_PASSWORD: 'Surv1vor!pass' })

    const again = startServer(dataDir)
    const b = await banner(again)
    expect(b.companyId).toBe(firstBanner.companyId)
    expect(b.login).toBe(firstBanner.login)
    expect(b.password).toBe(firstBanner.password)

    // The first password still logs in, and the token issued by the first process is still valid (same jwt-secret).
    expect((await loginStatus(b.url, firstBanner.login!, firstBanner.password!)).status).toBe(200)
    const demo = await users(b.url, firstToken)
    expect(demo.status).toBe(200)
    expect(demo.body.total).toBe(1)

    const survivor = await loginStatus(b.url, 'survivor@example.com', 'Surv1vor!pass')
    expect(survivor.status).toBe(200)
    const list = await users(b.url, survivor.token!)
    expect(list.body.data).toEqual([expect.objectContaining({ id: userId, loginEmail: 'survivor@example.com', companyId })])

    again.child.kill('SIGTERM')
    expect((await within(8_000, 'SIGTERM exit', again.exited)).code).toBe(0)
  }, 90_000)
})
