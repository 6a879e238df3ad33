import { readFileSync, writeFileSync } from 'node:fs'
import { openApiDocument } from './document.js'

// `--check` fails when the committed openapi/openapi.json differs from what the routes generate.
const target = new URL('../../openapi/openapi.json', import.meta.url)
const fresh = await openApiDocument()
if (process.argv.includes('--check')) {
  let committed = ''
  try { committed = readFileSync(target, 'utf8') } catch {}
  if (committed !== fresh) {
    process.stderr.write('openapi/openapi.json is stale: run `npm run openapi` and commit the result\n')
    process.exit(1)
  }
  process.stdout.write('openapi/openapi.json is up to date\n')
} else {
  writeFileSync(target, fresh)
  process.stdout.write(`wrote openapi/openapi.json (${fresh.length} bytes)\n`)
}
