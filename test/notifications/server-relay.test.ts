import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoCredentials } from '../../src/services/demo-seed.js'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { OPERATOR, TEST_METRICS_TOKEN } from '../helpers/app.js'
import { commandEndedOf, connectReceiver, prosodyAvailable, startProsody, type Prosody, type Receiver } from '../helpers/prosody.js'

// `npm start` with XMPP_* set: the embedded server's relay logs in and delivers to the demo admin.

describe.skipIf(!prosodyAvailable())('embedded server with XMPP configured', () => {
  let prosody: Prosody
  let receiver: Receiver | undefined
  let dataDir: string
  const procs: Proc[] = []

  beforeAll(async () => {
    prosody = await startProsody()
    prosody.register('svc', 'svc-Passw0rd')
    dataDir = mkdtempSync(join(tmpdir(), 'massprov-xmpp-server-'))
  })
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    await receiver?.stop()
    await prosody?.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('reports the relay online in /ready and delivers a POSTed report\'s command_ended to the admin\'s JID', async () => {
    const server = spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({
      DATA_DIR: dataDir, PORT: '0', METRICS_TOKEN: TEST_METRICS_TOKEN, XMPP_SERVICE: prosody.service, XMPP_DOMAIN: prosody.domain, XMPP_USERNAME: 'svc', XMPP_PASSWORD: 'svc-Passw0rd',
    }), procs)
    await within(60_000, 'server banner', new Promise<void>((resolve, reject) => {
      const onData = () => { if (/massprov is listening on http:\/\/\S+/.test(server.out.stdout)) resolve() }
      server.child.stdout!.on('data', onData)
      server.child.on('exit', (code) => reject(new Error(`server exited (${code})\n${server.out.stderr}`)))
    }))
    const url = /massprov is listening on (http:\/\/\S+)/.exec(server.out.stdout)![1]!
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as DemoCredentials
    const login = await fetch(`${url}/api/rainbow/authentication/v1.0/login`, {
      headers: { authorization: `Basic ${Buffer.from(`${demo.loginEmail}:${demo.password}`).toString('base64')}` },
    })
    const { token, loggedInUser } = await login.json() as { token: string, loggedInUser: { jid_im: string } }
    const [local, domain] = loggedInUser.jid_im.split('@')
    expect(domain).toBe(prosody.domain)
    prosody.register(local!, 'conn-Passw0rd')
    receiver = await connectReceiver(prosody, local!, 'conn-Passw0rd')

    const res = await fetch(`${url}/api/rainbow/massprovisioning/v1.0/users/imports/synchronize/e2e-1/report`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'success', details: 'nothing to do' }),
    })
    expect(res.status).toBe(200)
    await receiver.waitFor((m) => commandEndedOf(m) === 'e2e-1', 20_000)

    // Received before the relay saw the server's confirmation: it is marked sent a moment later.
    const xmppCheck = async () => ((await (await fetch(`${url}/ready`, { headers: OPERATOR })).json()) as { checks: Array<{ name: string, ok: boolean, detail?: string }> }).checks.find((c) => c.name === 'xmpp')
    for (let i = 0; i < 50 && (await xmppCheck())?.detail !== 'online as svc@localhost: 0 notifications waiting'; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await xmppCheck()).toEqual({ name: 'xmpp', ok: true, detail: 'online as svc@localhost: 0 notifications waiting' })

    server.child.kill('SIGTERM')
    expect((await within(30_000, 'server exit', server.exited)).code).toBe(0)

    // The CLI points an admin's notifications at another JID (the data directory is free again).
    const cli = (...args: string[]) => spawnNode(['--import', 'tsx', 'src/cli.ts', ...args], childEnv({ DATA_DIR: dataDir }), procs)
    const set = cli('set-jid', '--email', demo.loginEmail, '--jid', 'connector@xmpp.example.com')
    expect((await within(30_000, 'set-jid', set.exited)).code).toBe(0)
    expect(JSON.parse(set.out.stdout)).toEqual({ email: demo.loginEmail, jid: 'connector@xmpp.example.com' })
    const bad = cli('set-jid', '--email', demo.loginEmail, '--jid', 'not a jid')
    expect((await within(30_000, 'set-jid', bad.exited)).code).toBe(1)
    expect(bad.out.stderr).toMatch(/--jid must be a bare JID/)
  }, 120_000)
})
