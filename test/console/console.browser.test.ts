import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { childEnv, ROOT, spawnNode, within, type Proc } from '../helpers/processes.js'
import { openTestDb, requirePostgresInCi, type TestDb } from '../helpers/databases.js'
import { reportCsvHeader, reportCsvLine, type ReportLine } from '../../src/client/report-csv.js'
import { buildConsole, requireChromiumInCi } from './browser.js'

// The console as an administrator uses it: a real server process on a real database (PostgreSQL
// when DATABASE_URL is set, else the embedded PGlite), driven by the distribution's Chromium.

const CHROMIUM = requireChromiumInCi()
requirePostgresInCi()
const SHOTS = join(ROOT, 'docs/screenshots')
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 360, height: 740 }
const MP = '/api/rainbow/massprovisioning/v1.0'

interface Server { url: string, login: string, password: string, companyId: string }
interface Account { login: string, password: string }

function serverEnv (dataDir: string, databaseUrl: string | null): Record<string, string> {
  const env: Record<string, string> = {
    PORT: '0',
    SEED_DEMO: 'true',
    IMPORT_CHUNK_SIZE: '25',
    HASH_THREADS: '1',
    // The test signs in many times from one address.
    RATE_LIMIT_IP_MAX: '100000',
    RATE_LIMIT_MAX: '100000',
  }
  if (databaseUrl) Object.assign(env, { DATABASE_URL: databaseUrl, JWT_SECRET: 'browser-test-jwt-secret-0123456789abcdef', SECRETS_KEY: 'browser-test-secrets-key-0123456789abcdef' })
  else env.DATA_DIR = dataDir
  return env
}

async function startServer (procs: Proc[], env: Record<string, string>): Promise<Server> {
  const p = spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv(env), procs)
  await within(150_000, 'server banner', new Promise<void>((resolve, reject) => {
    const done = () => /\/api\/rainbow\/admin\/v1\.0\/users\n/.test(p.out.stdout)
    const onData = () => { if (done()) { p.child.stdout!.off('data', onData); resolve() } }
    p.child.stdout!.on('data', onData)
    p.child.on('exit', (code) => reject(new Error(`server exited (${code})\n${p.out.stdout}\n${p.out.stderr}`)))
    onData()
  }))
  const pick = (re: RegExp) => re.exec(p.out.stdout)![1]!
  return {
    url: pick(/Open the console: (http:\/\/127\.0\.0\.1:\d+)\/console/),
    login: pick(/^ {2}login: +(\S+)$/m),
    password: pick(/^ {2}password: +(\S+)$/m),
    companyId: pick(/^ {2}companyId: +(\S+)$/m),
  }
}

/** A massprov CLI command on the server's database; its JSON answer. */
async function cli<T> (procs: Proc[], env: Record<string, string>, args: string[], extra: Record<string, string> = {}): Promise<T> {
  const p = spawnNode(['--import', 'tsx', 'src/cli.ts', ...args], childEnv({ ...env, ...extra }), procs)
  const { code } = await within(60_000, `massprov ${args[0]}`, p.exited)
  if (code !== 0) throw new Error(`massprov ${args.join(' ')} exited ${code}\n${p.out.stdout}\n${p.out.stderr}`)
  return JSON.parse(p.out.stdout) as T
}

async function apiToken (s: Server, who: Account = s): Promise<string> {
  const res = await fetch(`${s.url}/api/rainbow/authentication/v1.0/login`, { headers: { authorization: `Basic ${Buffer.from(`${who.login}:${who.password}`).toString('base64')}` } })
  return (await res.json() as { token: string }).token
}

async function api<T> (s: Server, token: string, path: string): Promise<T> {
  const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
  return await res.json() as T
}

/** Signs in through the console's own flow: its button, the server's sign-in and consent pages, back. */
async function signIn (page: Page, s: Server, who: Account = s): Promise<void> {
  await page.goto(`${s.url}/console/`)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByLabel('Login e-mail').fill(who.login)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Allow' }).click()
  await page.getByRole('heading', { level: 1, name: 'Import a file' }).waitFor()
}

async function chooseFile (page: Page, name: string, text: string): Promise<void> {
  await page.locator('#file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) })
}

/** Waits for the import on the Progress page to end; every value the bar showed on the way. */
async function watchProgress (page: Page, shot?: string): Promise<{ status: string, seen: Array<{ value: number, max: number }> }> {
  await page.getByRole('heading', { name: 'Import in progress' }).waitFor()
  const seen: Array<{ value: number, max: number }> = []
  let shotTaken = false
  const deadline = Date.now() + 120_000
  for (;;) {
    // The status first: bar and status come from the same render, and a render after an ended one
    // never goes back to Pending, so a bar read after an ended status is the final one (read the
    // other way round, a render in between left a Pending bar, 1375 of 2000, beside "Terminated").
    const status = await page.getByTestId('status').textContent()
    const bar = await page.locator('progress#bar').evaluate((el) => { const p = el as unknown as { value: number, max: number }; return { value: p.value, max: p.max } })
    seen.push(bar)
    // The page's picture half-way when the run shows one, else at the end.
    if (shot && !shotTaken && ((bar.value > 0 && bar.value < bar.max) || status !== 'Pending')) {
      await page.screenshot({ path: shot })
      shotTaken = true
    }
    if (status !== 'Pending') return { status: status!, seen }
    if (Date.now() > deadline) throw new Error(`import still Pending after 120 s: ${JSON.stringify(seen.slice(-3))}`)
    await page.waitForTimeout(250)
  }
}

async function axeSerious (page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE })
  const result = await page.evaluate(async () => {
    const g = globalThis as unknown as { document: unknown, axe: { run: (ctx: unknown) => Promise<{ violations: Array<{ id: string, impact: string | null, nodes: Array<{ target: unknown }> }> }> } }
    return (await g.axe.run(g.document)).violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }))
  })
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(' ')}`)
}

function usersCsv (from: number, count: number, domain: string): string {
  const lines = ['__action__;loginEmail;firstName;lastName;jobTitle']
  for (let i = from; i < from + count; i++) lines.push(`create;bulk.${String(i).padStart(5, '0')}@${domain};Bulk;User ${i};Agent`)
  return lines.join('\n') + '\n'
}

if (CHROMIUM) {
  describe('web console in Chromium (real server, real database)', { timeout: 120_000 }, () => {
    const procs: Proc[] = []
    const dataDir = mkdtempSync(join(tmpdir(), 'massprov-console-'))
    let testDb: TestDb | undefined
    let server: Server
    let browser: Browser
    let context: BrowserContext
    let page: Page
    let token: string
    const cspViolations: string[] = []
    let bulkReqId = ''
    let mixedReqId = ''
    // For the company picker: a second company in the demo organization, and an organization_admin
    // of the demo company, who administers both (the demo admin is a company_admin: its own only).
    const ORG_ADMIN: Account = { login: 'org.admin@demo.example.com', password: 'Picker-Org-Admin-7!' }
    let otherCompany = ''

    beforeAll(async () => {
      buildConsole()
      testDb = process.env.DATABASE_URL ? await openTestDb('postgres') : undefined
      const env = serverEnv(dataDir, testDb?.url ?? null)
      server = await startServer(procs, env)
      // The embedded database is the server's alone while it runs: the CLI writes it in between.
      const running = procs.at(-1)!
      if (!testDb) {
        running.child.kill('SIGTERM')
        await within(30_000, 'server stop', running.exited)
      }
      otherCompany = (await cli<{ companyId: string }>(procs, env, ['create-company', '--name', 'Picker Company', '--organization', 'Demo Organization'])).companyId
      await cli(procs, env, ['create-admin', '--company', server.companyId, '--email', ORG_ADMIN.login, '--role', 'organization_admin'], { MASSPROV_PASSWORD: ORG_ADMIN.password })
      if (!testDb) server = await startServer(procs, env)
      token = await apiToken(server)
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
      // The page runs under the server's CSP (no bypass): a violation is recorded and fails the suite.
      context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, colorScheme: 'light' })
      page = await context.newPage()
      page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text()) })
      page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`))
    }, 300_000)

    afterAll(async () => {
      await browser?.close()
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
      await Promise.all(procs.map((p) => within(10_000, 'server exit', p.exited).catch(() => undefined)))
      // The server holds connections to the test database until it is gone.
      await testDb?.close()
      rmSync(dataDir, { recursive: true, force: true })
    }, 60_000)

    it('signs in with the authorization-code flow (PKCE) and lands on the Import page', async () => {
      await page.goto(`${server.url}/console/`)
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      await page.screenshot({ path: join(SHOTS, 'sign-in.png') })
      await signIn(page, server)
      const tokens = JSON.parse(await page.evaluate('sessionStorage.getItem("mp.tokens")') ?? 'null') as { accessToken: string, refreshToken: string } | null
      expect(tokens?.accessToken.split('.')).toHaveLength(3)
      expect(tokens?.refreshToken.length).toBeGreaterThan(20)
      // The code and state are gone from the address bar.
      expect(new URL(page.url()).search).toBe('')
    })

    it('checks a file with errors, shows them with the password masked, and checks it again once fixed', async () => {
      const secret = 'Weak'
      await chooseFile(page, 'errors.csv', `__action__;loginEmail;password;firstName;lastName\ncreate;first.ok@demo.example.com;;First;Ok\ncreate;not-an-email;${secret};Bad;Line\n`)
      await page.getByRole('button', { name: 'Check the file' }).click()
      const errors = page.locator('table.errors tbody tr')
      await errors.first().waitFor()
      expect(await page.getByTestId('count-errors').textContent()).toBe('2')
      const rows = await errors.allTextContents()
      expect(rows.some((r) => r.startsWith('3loginEmail3010'))).toBe(true)
      const passwordRow = (await errors.all())[1]!
      expect(await passwordRow.locator('td').nth(1).textContent()).toBe('password')
      expect(await passwordRow.locator('td').nth(4).textContent()).toBe('••••••')
      expect(await page.locator('table.errors').textContent()).not.toContain(secret)
      await page.screenshot({ path: join(SHOTS, 'import-check-errors.png'), fullPage: true })

      // Fixed in the page's editor, then checked again: no error, and the plan says what happens.
      await page.locator('#content').fill('__action__;loginEmail;password;firstName;lastName\ncreate;first.ok@demo.example.com;;First;Ok\ncreate;second.ok@demo.example.com;;Second;Ok\n')
      await expect.poll(() => page.getByText('The file changed since this check').count()).toBe(1)
      await page.getByRole('button', { name: 'Check the file' }).click()
      await page.locator('table.plan tbody tr').nth(1).waitFor()
      expect(await page.getByTestId('count-errors').textContent()).toBe('0')
      expect(await page.locator('table.plan tbody tr').allTextContents()).toEqual([
        expect.stringMatching(/^2createfirst\.ok@demo\.example\.comcreatesets firstName, lastName$/),
        expect.stringMatching(/^3createsecond\.ok@demo\.example\.comcreatesets firstName, lastName$/),
      ])
      await page.getByRole('button', { name: 'Import 2 lines' }).click()
      expect((await watchProgress(page)).status).toBe('Terminated')
    })

    it('imports 2,000 lines and the bar reaches 100 %', async () => {
      await page.getByRole('link', { name: 'Import' }).click()
      const text = usersCsv(1, 2000, 'demo.example.com')
      await chooseFile(page, 'bulk.csv', text)
      await page.getByLabel('Label').fill('bulk 2000')
      await page.getByRole('button', { name: 'Check the file' }).click()
      await page.getByRole('button', { name: 'Import 2000 lines' }).waitFor()
      expect(await page.getByTestId('count-lines').textContent()).toBe('2000')
      await page.screenshot({ path: join(SHOTS, 'import-plan.png') })
      await page.getByRole('button', { name: 'Import 2000 lines' }).click()
      const { status, seen } = await watchProgress(page, join(SHOTS, 'progress.png'))
      expect(status).toBe('Terminated')
      const last = seen.at(-1)!
      expect(last).toEqual({ value: 2000, max: 2000 })
      // The bar only moves forward.
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.value).toBeGreaterThanOrEqual(seen[i - 1]!.value)
      expect(await page.getByTestId('progress-text').textContent()).toContain('2000 / 2000 lines (100 %)')
      bulkReqId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]!)
      const imports = await api<{ data: Array<{ reqId: string, label: string, counters: { succeeded: number } }> }>(server, token, `${MP}/users/imports`)
      expect(imports.data.find((r) => r.reqId === bulkReqId)).toMatchObject({ label: 'bulk 2000', counters: { succeeded: 2000 } })
    })

    it('downloads the results CSV, the same lines as the report, and retries the failed lines', async () => {
      // An import with failing lines: updates of users that do not exist.
      const text = '__action__;loginEmail;jobTitle\nupdate;bulk.00001@demo.example.com;=HYPERLINK("x")\nupdate;ghost.one@demo.example.com;Nobody\nupdate;ghost.two@demo.example.com;Nobody\n'
      await page.getByRole('link', { name: 'Import' }).click()
      await chooseFile(page, 'mixed.csv', text)
      await page.getByRole('button', { name: 'Check the file' }).click()
      await page.getByRole('button', { name: 'Import 3 lines' }).click()
      expect((await watchProgress(page)).status).toBe('Terminated')
      const reqId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]!)
      mixedReqId = reqId
      await page.getByRole('link', { name: 'View the report' }).click()
      await page.getByRole('heading', { name: 'Import report' }).waitFor()
      await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true })

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the results (CSV)' }).click()])
      const downloaded = readFileSync((await download.path())!, 'utf8')
      const report = (await api<{ data: { report: ReportLine[] } }>(server, token, `${MP}/users/imports/${reqId}/details`)).data.report
      expect(report.map((l) => l.status).sort()).toEqual(['failed', 'failed', 'success'])
      const expected = [reportCsvHeader(), ...[...report].sort((a, b) => a.lineNumber - b.lineNumber).map(reportCsvLine)].join('\n') + '\n'
      expect(downloaded).toBe(expected)

      // The filter by status keeps the failed lines only.
      await page.getByLabel('Status').selectOption('failed')
      expect(await page.locator('table.report-lines tbody tr').count()).toBe(2)

      await page.getByRole('button', { name: 'Retry the 2 failed lines' }).click()
      await page.getByRole('heading', { name: 'Import a file' }).waitFor()
      expect(await page.locator('#content').inputValue()).toBe('__action__;loginEmail;jobTitle\nupdate;ghost.one@demo.example.com;Nobody\nupdate;ghost.two@demo.example.com;Nobody\n')
    })

    it('shows the Revert button on an ended import, and deletes a report', async () => {
      await page.goto(`${server.url}/console/reports/${bulkReqId}`)
      await page.getByRole('heading', { name: 'Import report' }).waitFor()
      await page.getByRole('button', { name: 'Revert this import…' }).waitFor()
      await page.getByRole('link', { name: 'Reports' }).click()
      await page.locator('table.reports tbody tr').first().waitFor()
      const before = await page.locator('table.reports tbody tr').count()
      await page.screenshot({ path: join(SHOTS, 'reports.png') })
      // The oldest one (the list is newest first): the two-line import of the first test.
      await page.locator('table.reports tbody tr a').last().click()
      await page.getByRole('button', { name: 'Delete this report' }).click()
      await page.getByRole('button', { name: 'Confirm: delete this report' }).click()
      await page.getByRole('heading', { name: 'Reports' }).waitFor()
      await expect.poll(() => page.locator('table.reports tbody tr').count()).toBe(before - 1)
    })

    it('reverts an import from its report: the revert plan first, then its progress; the user is as before and the button is gone', async () => {
      const jobTitle = async () => (await api<{ data: Array<{ jobTitle?: string | null }> }>(server, token, '/api/rainbow/admin/v1.0/users?loginEmail=bulk.00001%40demo.example.com')).data[0]?.jobTitle
      expect(await jobTitle()).toBe('=HYPERLINK("x")')
      await page.goto(`${server.url}/console/reports/${mixedReqId}`)
      await page.getByRole('heading', { name: 'Import report' }).waitFor()
      await page.getByRole('button', { name: 'Revert this import…' }).click()
      await page.getByRole('heading', { name: 'Revert: what it would do' }).waitFor()
      // Only the line that changed something is undone; the two failed lines changed nothing.
      const rows = page.locator('table:has(caption:text("Revert plan")) tbody tr')
      expect(await rows.count()).toBe(1)
      expect(await rows.first().locator('td').allTextContents()).toEqual(['2', 'update', 'bulk.00001@demo.example.com', 'update', 'jobTitle: =HYPERLINK("x") → Agent'])
      await page.screenshot({ path: join(SHOTS, 'revert-plan.png'), fullPage: true })
      await page.getByRole('button', { name: 'Run the revert' }).click()
      expect((await watchProgress(page)).status).toBe('Terminated')
      const revertReqId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]!)
      expect(await jobTitle()).toBe('Agent')
      const imports = await api<{ data: Array<{ reqId: string, revertedBy?: string | null }> }>(server, token, `${MP}/users/imports`)
      expect(imports.data.find((r) => r.reqId === mixedReqId)?.revertedBy).toBe(revertReqId)
      await page.goto(`${server.url}/console/reports/${mixedReqId}`)
      await page.getByTestId('reverted-by').waitFor()
      expect(await page.getByTestId('reverted-by').getAttribute('title')).toBe(revertReqId)
      expect(await page.getByRole('button', { name: 'Revert this import…' }).count()).toBe(0)
    })

    it('cancels an import from the Progress page', async () => {
      // Passwords are hashed one by one on one thread in chunks of 25: slow enough to cancel.
      const lines = ['__action__;loginEmail;password;firstName;lastName']
      for (let i = 0; i < 400; i++) lines.push(`create;slow.${i}@demo.example.com;Strong-Pass-${i}!;Slow;User`)
      await page.getByRole('link', { name: 'Import' }).click()
      await chooseFile(page, 'slow.csv', lines.join('\n') + '\n')
      await page.getByRole('button', { name: 'Check the file' }).click()
      await page.getByRole('button', { name: 'Import 400 lines' }).click()
      await page.getByRole('button', { name: 'Cancel the import' }).click()
      const { status } = await watchProgress(page)
      expect(status).toBe('Cancelled')
      const reqId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]!)
      const view = (await api<{ data: { status: string, counters: { succeeded: number, total: number } } }>(server, token, `${MP}/users/imports/${reqId}/details?format=small`)).data
      expect(view.status).toBe('Cancelled')
      expect(view.counters.succeeded).toBeLessThan(400)
      expect(await page.getByRole('button', { name: 'Cancel the import' }).count()).toBe(0)
    })

    it('deletion safeguard, server side: the check counts the deletions and an import without confirmDeletes is refused (409 409630)', async () => {
      // The contract of the deletion-safeguard change (MAX_DELETE_PERCENT, default 10), merged beside this one.
      const users = await api<{ total: number }>(server, token, '/api/rainbow/admin/v1.0/users?limit=1')
      const deletions = Math.floor(users.total * 0.15)
      const lines = ['__action__;loginEmail']
      for (let i = 1; i <= deletions; i++) lines.push(`delete;bulk.${String(i).padStart(5, '0')}@demo.example.com`)
      const post = (path: string) => fetch(`${server.url}${MP}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: lines.join('\n') + '\n' })
      const check = await (await post('/users/imports/check')).json() as { data: { deletionSafeguard?: unknown } }
      expect(check.data.deletionSafeguard).toEqual({ deletions, companyUsers: expect.any(Number), maxDeletePercent: 10, confirmationRequired: true })
      expect((check.data.deletionSafeguard as { companyUsers: number }).companyUsers * 0.1).toBeLessThan(deletions)
      const refused = await post('/users/imports')
      expect(refused.status).toBe(409)
      expect(await refused.json()).toMatchObject({ errorCode: 409, errorDetailsCode: 409630 })
      const wrong = await post(`/users/imports?confirmDeletes=${deletions - 1}`)
      expect(wrong.status).toBe(409)
      expect((await api<{ total: number }>(server, token, '/api/rainbow/admin/v1.0/users?limit=1')).total).toBe(users.total)
    })

    it('asks to type the number of deletions when they exceed 10 % of the company\'s users (deletion safeguard)', async () => {
      const users = await api<{ total: number }>(server, token, '/api/rainbow/admin/v1.0/users?limit=1')
      const deletions = Math.floor(users.total * 0.15)
      const lines = ['__action__;loginEmail']
      for (let i = 1; i <= deletions; i++) lines.push(`delete;bulk.${String(i).padStart(5, '0')}@demo.example.com`)
      await page.getByRole('link', { name: 'Import' }).click()
      await chooseFile(page, 'deletions.csv', lines.join('\n') + '\n')
      await page.getByRole('button', { name: 'Check the file' }).click()
      const importButton = page.getByRole('button', { name: `Import ${deletions} lines` })
      await importButton.waitFor()
      // The company's count is the server's (deletionSafeguard) when it answers one, else the user list's total.
      expect(await page.getByTestId('deletions').textContent()).toMatch(new RegExp(`^This import deletes ${deletions} users of the company's \\d+\\.$`))
      expect(await importButton.isDisabled()).toBe(true)
      const confirm = page.getByLabel(`Type ${deletions} to confirm`)
      await confirm.fill(String(deletions - 1))
      expect(await importButton.isDisabled()).toBe(true)
      await confirm.fill(String(deletions))
      expect(await importButton.isDisabled()).toBe(false)
      await page.locator('div.confirm').screenshot({ path: join(SHOTS, 'deletion-safeguard.png') })
      await importButton.click()
      expect((await watchProgress(page)).status).toBe('Terminated')
      const after = await api<{ total: number }>(server, token, '/api/rainbow/admin/v1.0/users?limit=1')
      expect(after.total).toBe(users.total - deletions)
    })

    it('highlights in the plan the columns a sync would clear', async () => {
      await page.getByRole('link', { name: 'Import' }).click()
      await chooseFile(page, 'sync.csv', '__action__;loginEmail;firstName;lastName;jobTitle\nsync;bulk.01000@demo.example.com;Bulk;Renamed;\n')
      await page.getByLabel('Mode').selectOption('useranddevice')
      await page.getByRole('button', { name: 'Check the file' }).click()
      await page.locator('table.plan tbody tr').first().waitFor()
      expect(await page.locator('table.plan .change.cleared').allTextContents()).toEqual(['jobTitle: Agent → ∅ (cleared)'])
      expect(await page.locator('table.plan .change:not(.cleared)').allTextContents()).toEqual(['lastName: User 1000 → Renamed'])
      await page.locator('div.result').screenshot({ path: join(SHOTS, 'import-sync-plan.png') })
    })

    it('runs the main flow with the keyboard only', async () => {
      const kb = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true })
      const p = await kb.newPage()
      try {
        await signIn(p, server)
        const tabTo = async (name: RegExp, { back = false, max = 40 } = {}) => {
          for (let i = 0; i < max; i++) {
            await p.keyboard.press(back ? 'Shift+Tab' : 'Tab')
            const label = await p.evaluate<string>('((el) => (el?.getAttribute("aria-label") ?? el?.textContent ?? "").trim())(document.activeElement)')
            if (name.test(label)) return
          }
          throw new Error(`no focusable element named ${String(name)} within ${max} tabs`)
        }
        // A new administrator's first import: the demo file the page offers, checked, imported, its results downloaded.
        await tabTo(/^Load a demo file$/)
        await p.keyboard.press('Enter')
        await tabTo(/^Check the file$/)
        await p.keyboard.press('Enter')
        await p.getByRole('button', { name: 'Import 5 lines' }).waitFor()
        expect(await p.getByTestId('count-errors').textContent()).toBe('0')
        await tabTo(/^Import 5 lines$/)
        await p.keyboard.press('Enter')
        await p.getByRole('heading', { name: 'Import in progress' }).waitFor()
        expect((await watchProgress(p)).status).toBe('Terminated')
        await tabTo(/^View the report$/)
        await p.keyboard.press('Enter')
        await p.getByRole('heading', { name: 'Import report' }).waitFor()
        await tabTo(/^Download the results \(CSV\)$/)
        const [download] = await Promise.all([p.waitForEvent('download'), p.keyboard.press('Enter')])
        const results = readFileSync((await download.path())!, 'utf8').trim().split('\n')
        expect(results).toHaveLength(6)
        expect(results[1]).toBe('2,create,ada.lovelace@demo.example.com,success,,')
        expect(results.slice(1).every((l) => /^\d,create,[a-z.]+@demo\.example\.com,success,,$/.test(l))).toBe(true)
        // The same file edited in the page with the keyboard: a second check finds the users it just created.
        await tabTo(/^Import$/, { back: true })
        await p.keyboard.press('Enter')
        await p.getByRole('heading', { name: 'Import a file' }).waitFor()
        await tabTo(/^Edit the file$/)
        await p.keyboard.press('Enter')
        await p.keyboard.press('Tab')
        await p.keyboard.type('__action__;loginEmail;firstName\ncreate;keyboard.user@demo.example.com;Keys\n')
        await tabTo(/^Check the file$/)
        await p.keyboard.press('Enter')
        await p.getByRole('button', { name: 'Import 1 line' }).waitFor()
      } finally {
        await kb.close()
      }
    })

    it('company picker: an organization_admin picks another company of its organization, imports into it and reads its reports; a company_admin has no picker', async () => {
      // The demo admin (a company_admin) administers one company: the list has it alone and no picker is shown.
      const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rainbow/admin/v1.0/companies')
      await page.goto(`${server.url}/console/reports`)
      await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor()
      expect(((await (await listed).json()) as { data: unknown[] }).data).toHaveLength(1)
      await page.locator('table.reports tbody tr').first().waitFor()
      expect(await page.getByLabel('Company').count()).toBe(0)
      expect(await page.evaluate('sessionStorage.getItem("mp.company")')).toBeNull()

      const ctx = await browser.newContext({ viewport: DESKTOP })
      const p = await ctx.newPage()
      p.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text()) })
      p.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`))
      try {
        await signIn(p, server, ORG_ADMIN)
        const picker = p.getByLabel('Company')
        await picker.waitFor()
        // It starts on the administrator's own company.
        expect(await picker.inputValue()).toBe(server.companyId)
        expect(await picker.locator('option').allTextContents()).toEqual(['Demo Company', 'Picker Company'])
        // Chosen with the keyboard: focused, then the arrow key.
        await picker.focus()
        await p.keyboard.press('ArrowDown')
        expect(await picker.inputValue()).toBe(otherCompany)
        expect(await p.evaluate('sessionStorage.getItem("mp.company")')).toBe(otherCompany)

        const emails = ['picker.one@picker.example.com', 'picker.two@picker.example.com']
        await p.getByRole('heading', { name: 'Import a file' }).waitFor()
        await chooseFile(p, 'picker.csv', `__action__;loginEmail;firstName;lastName\n${emails.map((e, i) => `create;${e};Picker;User ${i}`).join('\n')}\n`)
        await p.getByLabel('Label').fill('picked company')
        await p.getByRole('button', { name: 'Check the file' }).click()
        await p.getByRole('button', { name: 'Import 2 lines' }).click()
        expect((await watchProgress(p)).status).toBe('Terminated')
        const reqId = decodeURIComponent(new URL(p.url()).pathname.split('/')[3]!)

        // The users are in the company chosen, and not in the administrator's own.
        const orgToken = await apiToken(server, ORG_ADMIN)
        const other = await api<{ data: Array<{ loginEmail: string, companyId: string }> }>(server, orgToken, `/api/rainbow/admin/v1.0/users?companyId=${otherCompany}&limit=1000`)
        expect(other.data.filter((u) => emails.includes(u.loginEmail)).map((u) => [u.loginEmail, u.companyId]).sort()).toEqual(emails.map((e) => [e, otherCompany]))
        for (const email of emails) {
          expect((await api<{ total: number }>(server, orgToken, `/api/rainbow/admin/v1.0/users?loginEmail=${encodeURIComponent(email)}`)).total).toBe(0)
        }

        // The Reports page of that company lists the import, and still does after a reload (the choice is kept for the tab).
        const rows = p.locator('table.reports tbody tr')
        for (const step of ['link', 'reload']) {
          if (step === 'link') await p.getByRole('link', { name: 'Reports' }).click()
          else await p.reload()
          await p.getByRole('heading', { level: 1, name: 'Reports' }).waitFor()
          await rows.first().waitFor()
          expect(await rows.count(), step).toBe(1)
          expect(await rows.first().textContent(), step).toContain('picked company')
          expect(await picker.inputValue(), step).toBe(otherCompany)
        }
        // Its report offers the revert, whose dry run is asked for that company.
        await rows.first().locator('a').click()
        await p.getByRole('heading', { name: 'Import report' }).waitFor()
        expect(await p.getByTestId('report-status').textContent()).toBe('Terminated')
        await p.getByRole('button', { name: 'Revert this import…' }).click()
        await p.getByRole('heading', { name: 'Revert: what it would do' }).waitFor()
        expect(await p.locator('table:has(caption:text("Revert plan")) tbody tr').count()).toBe(2)

        // Back on its own company: that import is not among its reports.
        await picker.selectOption({ label: 'Demo Company' })
        // The demo company's list, once loaded, has the imports of the tests above.
        await expect.poll(() => rows.count()).toBeGreaterThan(1)
        expect((await rows.allTextContents()).some((t) => t.includes('picked company'))).toBe(false)
        expect(await p.locator(`a[href$="${reqId}"]`).count()).toBe(0)
      } finally {
        await ctx.close()
      }

      // The header with the picker, audited like the other pages (axe needs the CSP bypassed to load).
      for (const viewport of [DESKTOP, PHONE]) {
        const audit = await browser.newContext({ viewport, bypassCSP: true })
        const a = await audit.newPage()
        try {
          await signIn(a, server, ORG_ADMIN)
          await a.getByLabel('Company').waitFor()
          expect(await axeSerious(a), `${viewport.width}px`).toEqual([])
          expect(await a.evaluate('document.documentElement.scrollWidth'), `${viewport.width}px`).toBeLessThanOrEqual(viewport.width)
        } finally {
          await audit.close()
        }
      }
    })

    it('passes axe-core with no serious or critical violation on every page, at 360 px and on a desktop, light and dark', async () => {
      const failures: string[] = []
      for (const [viewport, colorScheme] of [[DESKTOP, 'light'], [PHONE, 'dark']] as const) {
        // bypassCSP only for this audit, to inject axe's source; the suite above ran under the CSP.
        const audit = await browser.newContext({ viewport, colorScheme, bypassCSP: true })
        const p = await audit.newPage()
        try {
          await p.goto(`${server.url}/console/`)
          await p.getByRole('button', { name: 'Sign in' }).waitFor()
          for (const v of await axeSerious(p)) failures.push(`sign-in ${viewport.width}px: ${v}`)
          await signIn(p, server)
          const pages: Array<[string, string, () => Promise<void>]> = [
            ['import', 'Import a file', async () => {
              await chooseFile(p, 'errors.csv', '__action__;loginEmail;firstName\ncreate;bad;X\nupdate;admin@demo.example.com;Demo\n')
              await p.getByRole('button', { name: 'Check the file' }).click()
              await p.locator('table.errors').waitFor()
            }],
            [`reports/${mixedReqId}`, 'Import report', async () => {}],
            ['reports', 'Reports', async () => {}],
            ['templates', 'Templates', async () => { await p.locator('pre.template').filter({ hasText: '__action__' }).waitFor() }],
            ['directory', 'Users and numbers', async () => { await p.getByText(/^PBX numbers:/).waitFor() }],
          ]
          for (const [path, heading, ready] of pages) {
            await p.goto(`${server.url}/console/${path}`)
            await p.getByRole('heading', { level: 1, name: heading }).waitFor()
            await ready()
            for (const v of await axeSerious(p)) failures.push(`${path} ${viewport.width}px ${colorScheme}: ${v}`)
            const name = path.startsWith('reports/') ? 'report' : path
            await p.evaluate('window.scrollTo(0, 0)')
            if (viewport === PHONE) await p.screenshot({ path: join(SHOTS, `${name}-360.png`) })
            else if (name === 'templates' || name === 'directory') await p.screenshot({ path: join(SHOTS, `${name}.png`) })
            // Nothing wider than the window at 360 px: the page scrolls down, not sideways.
            if (viewport === PHONE) {
              // The element that ends furthest right outside a scrolling region, to name it when the page is too wide.
              const widest = await p.evaluate<{ scrollWidth: number, right: number, what: string }>(`(() => {
                let found = { right: 0, what: '' }
                for (const el of document.querySelectorAll('body *')) {
                  const r = el.getBoundingClientRect().right
                  if (r > found.right && !el.closest('.scroll, pre')) found = { right: Math.round(r), what: el.tagName.toLowerCase() + '.' + el.className }
                }
                return { scrollWidth: document.documentElement.scrollWidth, ...found }
              })()`)
              expect(widest.scrollWidth, `${path}: ${widest.what} ends at ${widest.right} px`).toBeLessThanOrEqual(PHONE.width)
            }
          }
        } finally {
          await audit.close()
        }
      }
      expect(failures).toEqual([])
    }, 300_000)

    it('ran every page above under the CSP without a violation', () => {
      expect(cspViolations).toEqual([])
    })
  })
}

describe('console build', () => {
  it('is produced by the build into dist/console with hashed assets and no inline script or style', () => {
    buildConsole()
    const html = readFileSync(join(ROOT, 'dist/console/index.html'), 'utf8')
    expect(html).toMatch(/<script type="module" crossorigin src="\/console\/assets\/index-[\w-]{8}\.js"><\/script>/)
    expect(html).toMatch(/<link rel="stylesheet" crossorigin href="\/console\/assets\/index-[\w-]{8}\.css">/)
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(html).not.toMatch(/<style|style=/)
  })
})
