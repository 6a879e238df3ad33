import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

// One file per forbidden edge, plus edges the rules must let through (db → util, routes → csv).
const FIXTURE: Record<string, string> = {
  'src/csv/cycle-a.ts': "import { b } from './cycle-b.js'\nexport const a = (): number => b() + 1\n",
  'src/csv/cycle-b.ts': "import { a } from './cycle-a.js'\nexport const b = (): number => a.length\n",
  'src/csv/reads-db.ts': "import { row } from '../db/rows.js'\nexport const cell = row\n",
  'src/db/rows.ts': "import { newId } from '../util/ids.js'\nexport const row = newId()\n",
  'src/db/route-type.ts': "import type { Route } from '../routes/route.js'\nexport const route: Route = 'x'\n",
  'src/util/ids.ts': "export const newId = (): string => 'id'\n",
  'src/util/reads-db.ts': "import { row } from '../db/rows.js'\nexport const id = row\n",
  'src/routes/route.ts': "import { cell } from '../csv/reads-db.js'\nexport type Route = string\nexport const c = cell\n",
  'src/plugins/needs-app.ts': "import { app } from '../app.js'\nexport const p = app\n",
  'src/app.ts': 'export const app = 1\n',
}

type Violation = [rule: string, from: string, to: string]

async function violations (baseDir: string, options: ICruiseOptions): Promise<Violation[]> {
  const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'))
  const { output } = await cruise(['src'], { ...options, baseDir }, undefined, { tsConfig })
  const result = output as ICruiseResult
  return result.summary.violations
    .filter((v) => v.rule.severity === 'error')
    .map((v): Violation => [v.rule.name, v.from, v.to])
    .sort()
}

describe('layering rules (.dependency-cruiser.cjs)', () => {
  let options: ICruiseOptions
  let fixture: string

  beforeAll(async () => {
    options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'))
    fixture = mkdtempSync(join(tmpdir(), 'massprov-layering-'))
    for (const [file, text] of Object.entries(FIXTURE)) {
      mkdirSync(dirname(join(fixture, file)), { recursive: true })
      writeFileSync(join(fixture, file), text)
    }
  })

  afterAll(() => {
    if (fixture !== undefined) rmSync(fixture, { recursive: true, force: true })
  })

  it('reports a cycle, db importing routes (a type), csv importing db, util importing db and a plugin importing app.ts, and nothing else', async () => {
    expect(await violations(fixture, options)).toEqual([
      ['csv-stays-pure', 'src/csv/reads-db.ts', 'src/db/rows.ts'],
      ['db-is-the-floor', 'src/db/route-type.ts', 'src/routes/route.ts'],
      ['no-circular', 'src/csv/cycle-a.ts', 'src/csv/cycle-b.ts'],
      ['no-entry-from-routes-or-plugins', 'src/plugins/needs-app.ts', 'src/app.ts'],
      ['util-is-a-leaf', 'src/util/reads-db.ts', 'src/db/rows.ts'],
    ])
  })

  it('finds no violation in src/', async () => {
    expect(await violations(ROOT, options)).toEqual([])
  })
})
