// The entry of massprov-client (bin/massprov-client.js): the only file of src/client that reads the
// environment and the process. Like the console, an HTTP client of the API only: it imports nothing
// from the rest of src/ (.dependency-cruiser.cjs, client-is-http-only).
import { homedir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { configDir } from './config-store.js'
import { createOutput } from './output.js'
import { run } from './run.js'

const env = process.env
const out = createOutput({ stdout: process.stdout, stderr: process.stderr })
try {
  process.exitCode = await run(process.argv.slice(2), {
    out,
    configDir: configDir(env, homedir()),
    env: { MASSPROV_SERVER: env.MASSPROV_SERVER, MASSPROV_PASSWORD: env.MASSPROV_PASSWORD },
    stdin: process.stdin,
    stderr: process.stderr,
    sleep: async (ms) => { await sleep(ms) },
  })
} catch (err) {
  out.error(`unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
}
