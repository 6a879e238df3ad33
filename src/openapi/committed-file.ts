import { readFileSync, writeFileSync } from 'node:fs'

/** Writes a generated file, or with `--check` exits 1 when the committed copy differs (CI drift check). */
export function writeOrCheck (target: URL, fresh: string, regenerate: string): void {
  const name = target.pathname.split('/').slice(-2).join('/')
  if (!process.argv.includes('--check')) {
    writeFileSync(target, fresh)
    process.stdout.write(`wrote ${name} (${fresh.length} bytes)\n`)
    return
  }
  let committed = ''
  // No committed file yet: it is reported as stale just below.
  try { committed = readFileSync(target, 'utf8') } catch {}
  if (committed !== fresh) {
    process.stderr.write(`${name} is stale: run \`${regenerate}\` and commit the result\n`)
    process.exit(1)
  }
  process.stdout.write(`${name} is up to date\n`)
}
