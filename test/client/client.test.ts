import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { csvCell, reportCsvLine } from '../../src/client/report-csv.js'
import { openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../helpers/fixtures.js'
import { addUser, buildImportApp, type ImportApp } from '../jobs/helpers/import-app.js'

// massprov-client as a user runs it: bin/massprov-client.js in a child process against a real
// server listening on a port (the in-process queue applies imports), its session in a temp dir.

const ROOT = new URL('../../', import.meta.url).pathname

interface Run { code: number | null, stdout: string, stderr: string }

let tdb: TestDb
let world: World
let server: ImportApp
let base: string
/** The same database behind an app without a queue: its imports stay Pending. */
let idle: ImportApp
let idleBase: string
let configDir: string
let files: string
let tag = 0

function client (args: string[], env: Record<string, string> = {}, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['bin/massprov-client.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, MASSPROV_PASSWORD: '', MASSPROV_SERVER: '', MASSPROV_CONFIG_DIR: configDir, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end(stdin)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`massprov-client ${args.join(' ')} did not finish within 30 s\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const jsonLines = (r: Run) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)

/** A CSV file of its own (the server refuses the same file twice). */
function csv (lines: string[]): string {
  const file = join(files, `f${++tag}.csv`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

const email = (who: string) => `${who}-${tag}-${Date.now()}@example.com`

beforeAll(async () => {
  tdb = await openTestDb('pglite')
  world = await createWorld(tdb.db)
  server = await buildImportApp(tdb.db)
  await server.app.listen({ host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`
  idle = await buildImportApp(tdb.db, { queue: false })
  await idle.app.listen({ host: '127.0.0.1', port: 0 })
  idleBase = `http://127.0.0.1:${(idle.app.server.address() as AddressInfo).port}`
  configDir = mkdtempSync(join(tmpdir(), 'massprov-client-'))
  files = mkdtempSync(join(tmpdir(), 'massprov-client-files-'))
})

afterAll(async () => {
  await server?.app.close()
  await idle?.app.close()
  await tdb?.close()
  if (configDir) rmSync(configDir, { recursive: true, force: true })
  if (files) rmSync(files, { recursive: true, force: true })
})

describe('massprov-client', () => {
  it('--help answers at the top level and per command, exit 0', async () => {
    const top = await client(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toMatch(/Usage: massprov-client COMMAND/)
    expect(top.stdout).toMatch(/report REQID/)
    const cmd = await client(['report', '--help'])
    expect(cmd.code).toBe(0)
    expect(cmd.stdout).toMatch(/--failed/)
  })

  it('refuses --password with the reason, exit 1', async () => {
    const r = await client(['login', '--server', base, '--email', world.adminA.email, `--password=${PASSWORD}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/--password is refused: .*visible/)
    expect(r.stdout).toBe('')
  })

  it('exits 1 when the server cannot be reached', async () => {
    const r = await client(['login', '--server', 'http://127.0.0.1:1', '--email', world.adminA.email], { MASSPROV_PASSWORD: PASSWORD })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/)
  })

  it('a wrong password is the server\'s envelope, exit 1, no session', async () => {
    const r = await client(['login', '--server', base, '--email', world.adminA.email], {}, 'not-the-password\n')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^massprov-client: 401 /)
    expect(() => statSync(join(configDir, 'client.json'))).toThrow()
  })

  it('login keeps the token in a 0600 file and never prints the password', async () => {
    const r = await client(['login', '--email', world.adminA.email], { MASSPROV_SERVER: base }, `${PASSWORD}\n`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(PASSWORD)
    const [event] = jsonLines(r)
    expect(event).toMatchObject({ type: 'login', server: base, email: world.adminA.email, userId: world.adminA.id })
    const file = join(configDir, 'client.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
    expect(saved.server).toBe(base)
    expect(saved.token).toMatch(/^eyJ/)
    expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD)
    expect(r.stdout).not.toContain(saved.token)
  })

  it('template user prints the CSV header', async () => {
    const r = await client(['template', 'user'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^__action__;loginEmail/m)
  })

  it('check of a file with errors prints them as JSON lines, exit 2', async () => {
    const r = await client(['check', csv(['__action__;loginEmail;firstName', `create;${email('ok')};Ok`, 'create;not-an-email;Bad'])])
    expect(r.code, r.stderr).toBe(2)
    const events = jsonLines(r)
    expect(events.filter((e) => e.type === 'error')).toEqual([expect.objectContaining({ type: 'error', lineNumber: expect.any(Number), message: expect.any(String) })])
    expect(events.at(-1)).toMatchObject({ type: 'check', mode: 'user', errors: 1, failedLines: 1 })
  })

  it('check of a clean file exits 0 with the plan counts', async () => {
    const r = await client(['check', csv(['__action__;loginEmail;firstName', `create;${email('a')};A`, `create;${email('b')};B`]), '--mode', 'user'])
    expect(r.code, r.stderr).toBe(0)
    expect(jsonLines(r)).toEqual([expect.objectContaining({ type: 'check', errors: 0, failedLines: 0, lines: 2, outcomes: { create: 2 } })])
  })

  let finished = ''
  it('import --wait of a clean file exits 0 and reports Terminated', async () => {
    const r = await client(['import', csv(['__action__;loginEmail;firstName', `create;${email('c')};C`]), '--wait', '--interval', '0.1', '--label', 'from the client'])
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r)
    expect(events[0]).toMatchObject({ type: 'import', reqId: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'Terminated', label: 'from the client', counters: { succeeded: 1, failed: 0, total: 1 } })
    finished = events[0]!.reqId as string
    const s = await client(['status', finished])
    expect(s.code).toBe(0)
    expect(jsonLines(s)[0]).toMatchObject({ type: 'status', status: 'Terminated' })
  })

  it('cancel of a finished import exits 1 with the server\'s message', async () => {
    const r = await client(['cancel', finished])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/409 .*has already ended \(Terminated\)/)
  })

  it('revert --check shows the plan, exit 0; revert --wait undoes the import, exit 0; a second revert exits 1 with the 409', async () => {
    const check = await client(['revert', finished, '--check'])
    expect(check.code, check.stderr).toBe(0)
    expect(jsonLines(check).at(-1)).toMatchObject({ type: 'check', reverts: finished, errors: 0, failedLines: 0, outcomes: { delete: 1 } })
    const r = await client(['revert', finished, '--wait', '--interval', '0.1'])
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r)
    expect(events[0]).toMatchObject({ type: 'revert', operation: 'revert', reverts: finished, reqId: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'Terminated', operation: 'revert', counters: { succeeded: 1, failed: 0, total: 1 } })
    const again = await client(['revert', finished])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/409 .*already reverted/)
    // A line in conflict: the revert of the revert would bring the user back, but its login e-mail was taken meanwhile (3112), exit 2.
    const revertId = events[0]!.reqId as string
    const [line] = await tdb.db.query<{ e: string }>('SELECT login_email AS e FROM import_lines WHERE req_id = $1', [revertId])
    await addUser(tdb.db, world.companyA, line!.e)
    const conflict = await client(['revert', revertId, '--check'])
    expect(conflict.code).toBe(2)
    expect(jsonLines(conflict).find((e) => e.type === 'error')).toMatchObject({ code: 3112 })
  })

  it('import --wait with a failing line exits 2; report --failed --csv escapes a formula cell', async () => {
    const formula = `=cmd-${Date.now()}@example.com`
    const r = await client(['import', csv(['__action__;loginEmail;firstName', `create;${email('d')};D`, `update;${formula};X`]), '--wait', '--interval', '0.1'])
    expect(r.code, r.stderr).toBe(2)
    const events = jsonLines(r)
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'Terminated', counters: { succeeded: 1, failed: 1 } })
    const reqId = events[0]!.reqId as string

    const rep = await client(['report', reqId, '--failed', '--csv'])
    expect(rep.code).toBe(2)
    const [header, ...lines] = rep.stdout.trim().split('\n')
    expect(header).toBe('lineNumber,action,loginEmail,status,errorCode,errorMsg')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^\\d+,update,'${formula.replace(/[.]/g, '\\.')},failed,\\d+,`))

    const json = await client(['report', reqId])
    expect(jsonLines(json).filter((e) => e.type === 'line').map((e) => e.status)).toEqual(['success', 'failed'])
  })

  it('import --wait shows progress while Pending and exits 2 when the import is cancelled', async () => {
    const env = { MASSPROV_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'massprov-client-idle-')) }
    try {
      expect((await client(['login', '--server', idleBase, '--email', world.adminA.email], env, PASSWORD)).code).toBe(0)
      const waiting = client(['import', csv(['__action__;loginEmail;firstName', `create;${email('e')};E`]), '--wait', '--interval', '0.1'], env)
      const { token } = JSON.parse(readFileSync(join(env.MASSPROV_CONFIG_DIR, 'client.json'), 'utf8')) as { token: string }
      let reqId: string | undefined
      // The import the waiting client made, once it is stored.
      for (let i = 0; i < 100 && !reqId; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        const listed = await idle.app.inject({ url: '/api/rainbow/massprovisioning/v1.0/users/imports', headers: { authorization: `Bearer ${token}` } })
        reqId = (listed.json() as { data: Array<{ reqId: string, status: string }> }).data.find((d) => d.status === 'Pending')?.reqId
      }
      expect(reqId).toBeDefined()
      const cancelled = await client(['cancel', reqId!], env)
      expect(cancelled.code, cancelled.stderr).toBe(0)
      expect(jsonLines(cancelled)[0]).toMatchObject({ type: 'status', status: 'Cancelled' })
      const r = await waiting
      expect(r.code, r.stderr).toBe(2)
      const events = jsonLines(r)
      expect(events.some((e) => e.type === 'progress' && e.label === 'Pending' && e.total === 1)).toBe(true)
      expect(events.at(-1)).toMatchObject({ type: 'status', status: 'Cancelled' })
    } finally {
      rmSync(env.MASSPROV_CONFIG_DIR, { recursive: true, force: true })
    }
  })

  it('import of a file deleting too many users prints the server\'s sentence, exit 1; --confirm-deletes N imports it', async () => {
    // Two deletions in company A (a handful of users, well under 20): over MAX_DELETE_PERCENT (10 %).
    const victims = [email('v1'), email('v2')]
    for (const v of victims) await addUser(tdb.db, world.companyA, v)
    const file = csv(['__action__;loginEmail', ...victims.map((v) => `delete;${v}`)])
    const checked = await client(['check', file])
    expect(checked.code, checked.stderr).toBe(0)
    expect(jsonLines(checked).at(-1)).toMatchObject({ type: 'check', deletionSafeguard: { deletions: 2, maxDeletePercent: 10, confirmationRequired: true } })

    const refused = await client(['import', file, '--wait', '--interval', '0.1'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(/^massprov-client: This file would delete 2 of the company's \d+ users \([\d.]+ %, over the limit of 10 %\): nothing was imported; send it again with confirmDeletes=2 to confirm these deletions\nTo confirm, run the same import with --confirm-deletes 2\n$/)
    const wrong = await client(['import', file, '--confirm-deletes', '1'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/confirmDeletes=1 does not match: .*\nTo confirm, run the same import with --confirm-deletes 2\n$/)
    const typo = await client(['import', file, '--confirm-deletes', 'two'])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toMatch(/--confirm-deletes must be the number of deletions/)

    const confirmed = await client(['import', file, '--confirm-deletes', '2', '--wait', '--interval', '0.1'])
    expect(confirmed.code, confirmed.stderr).toBe(0)
    expect(jsonLines(confirmed).at(-1)).toMatchObject({ type: 'status', status: 'Terminated', counters: { succeeded: 2, failed: 0, total: 2 } })
    const left = await tdb.db.query('SELECT 1 FROM users WHERE login_email = ANY($1::text[]) AND deleted_at IS NULL', [victims])
    expect(left).toEqual([])
  })

  it('an unknown command or option is a usage error, exit 1', async () => {
    expect((await client(['frobnicate'])).code).toBe(1)
    const r = await client(['check', 'x.csv', '--bogus'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/bogus/)
  })
})

describe('report CSV cells', () => {
  it('escapes formula starts with a leading quote and quotes as RFC 4180', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"')
    expect(csvCell('+1')).toBe('\'+1')
    expect(csvCell('-2')).toBe('\'-2')
    expect(csvCell('@SUM(A1)')).toBe('\'@SUM(A1)')
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell(undefined)).toBe('')
    expect(reportCsvLine({ lineNumber: 3, action: 'update', loginEmail: '=x@example.com', status: 'failed', errorCode: 3101, errorMsg: '-bad' }))
      .toBe('3,update,\'=x@example.com,failed,3101,\'-bad')
  })
})
