import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import type { DemoCredentials } from '../../src/services/demo-seed.js'

// The committed Postman collection's scenario folder, run by newman as a new user would run it,
// against a real server process on a fresh embedded data directory.

const procs: Proc[] = []
const dirs: string[] = []

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function listening (p: Proc): Promise<string> {
  return within(60_000, 'server start', new Promise<string>((resolve, reject) => {
    const look = () => {
      const m = /massprov is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.out.stdout)
      if (m) { p.child.stdout!.off('data', look); resolve(m[1]!) }
    }
    p.child.stdout!.on('data', look)
    p.child.on('exit', (code) => reject(new Error(`server exited (${code})\n${p.out.stderr}`)))
    look()
  }))
}

interface NewmanReport { run: { stats: { assertions: { total: number, failed: number }, requests: { total: number, failed: number } }, failures: Array<{ error: { message: string }, source: { name: string } }> } }

describe('Postman collection', () => {
  it('the scenario folder passes under newman against a fresh server: log in, template, check, import, poll to Terminated, 409 on the same file, list, delete', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'massprov-postman-'))
    dirs.push(dataDir)
    const server = spawnNode(['--import', 'tsx', 'src/server.ts'], childEnv({ DATA_DIR: dataDir, PORT: '0' }), procs)
    const baseUrl = await listening(server)
    const creds = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as DemoCredentials

    const report = join(dataDir, 'newman.json')
    const newman = spawnNode([
      'node_modules/newman/bin/newman.js', 'run', 'openapi/massprov.postman_collection.json',
      '--folder', 'Scenario: first import',
      '--env-var', `baseUrl=${baseUrl}`, '--env-var', `email=${creds.loginEmail}`, '--env-var', `password=${creds.password}`,
      '--reporters', 'cli,json', '--reporter-json-export', report, '--timeout-request', '30000',
    ], childEnv({}), procs)
    const { code } = await within(120_000, 'newman run', newman.exited)
    expect(existsSync(report), newman.out.stdout + newman.out.stderr).toBe(true)
    const { run } = JSON.parse(readFileSync(report, 'utf8')) as NewmanReport
    expect(run.failures.map((f) => `${f.source.name}: ${f.error.message}`)).toEqual([])
    expect(code).toBe(0)
    expect(run.stats.requests.failed).toBe(0)
    // Every step's assertions ran (the poll step asserts once it sees Terminated).
    expect(run.stats.assertions.total).toBeGreaterThanOrEqual(10)
  }, 180_000)
})
