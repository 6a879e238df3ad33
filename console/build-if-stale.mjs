// `npm start`'s prestart: builds the console when dist/console is missing or older than its
// sources, so a fresh clone starts with `npm install && npm start` and no other step.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const built = join(root, 'dist/console/index.html')

function newest (path) {
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))))
}

const sources = ['console/src', 'console/index.html', 'console/vite.config.ts'].map((p) => join(root, p))
if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) process.exit(0)

const vite = join(root, 'node_modules/vite/bin/vite.js')
if (!existsSync(vite)) {
  process.stderr.write('massprov: the console is not built and vite is not installed (npm install without --omit=dev, then npm run build:console); starting without it\n')
  process.exit(0)
}
process.stdout.write('massprov: building the console (dist/console)…\n')
const r = spawnSync(process.execPath, [vite, 'build', '--config', join(root, 'console/vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root })
process.exit(r.status ?? 1)
