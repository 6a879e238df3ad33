import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/processes.js'

/** The distribution's Chromium (npm-downloaded browsers do not run here); CHROMIUM_PATH overrides it. */
export function chromiumPath (): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p)
  return candidates.find((p) => existsSync(p))
}

/** In CI the browser tests are not optional: a missing Chromium fails the run instead of leaving them out. */
export function requireChromiumInCi (): string | undefined {
  const path = chromiumPath()
  if (!path && process.env.CI === 'true') {
    throw new Error('CI=true but no Chromium at /usr/bin/chromium (or CHROMIUM_PATH): the browser tests would not run; .ci/run installs it')
  }
  return path
}

/** Builds the console when dist/console is missing or older than console/ (npm start's prestart). */
export function buildConsole (): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'console/build-if-stale.mjs')], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`console build failed:\n${r.stdout}\n${r.stderr}`)
  if (!existsSync(join(ROOT, 'dist/console/index.html'))) throw new Error('console build left no dist/console/index.html')
}
