import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LineErrorCodes } from '../src/csv/line-errors.js'
import { Errors } from '../src/errors.js'
import { PlanCodes } from '../src/provisioning/codes.js'

// Issue 13 item 6: every code a client can receive is pinned by a test that expects it, or it is
// not in the catalogue. A code no test names is either dead or untested, and either is a defect.

const TEST_DIR = new URL('./', import.meta.url).pathname
const SELF = 'codes-catalogue.test.ts'

function testSources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return testSources(path)
    return name.endsWith('.ts') && name !== SELF ? [readFileSync(path, 'utf8')] : []
  })
}

/** Every errorDetailsCode of the catalogue, read by calling each entry (arguments do not change codes). */
function catalogueCodes (): Array<[string, number]> {
  return Object.entries(Errors).map(([name, make]) => [name, (make as (...args: unknown[]) => { errorDetailsCode: number })('x', 'y').errorDetailsCode])
}

describe('the code catalogue', () => {
  const sources = testSources(TEST_DIR)
  // By its number, or by its catalogue name (`C.invalidEnum`, `PlanCodes.userNotFound`) in an expectation's data.
  const named = (code: number, name: string) => sources.some((text) => new RegExp(`(?<![0-9])${code}(?![0-9])|\\b(?:C|LineErrorCodes|PlanCodes)\\.${name}\\b`).test(text))

  it.each([
    ...catalogueCodes().map(([name, code]) => [`Errors.${name}`, code] as const),
    ...Object.entries(PlanCodes).map(([name, code]) => [`PlanCodes.${name}`, code] as const),
    ...Object.entries(LineErrorCodes).map(([name, code]) => [`LineErrorCodes.${name}`, code] as const),
  ])('%s (%i) is expected by at least one test', (name, code) => {
    expect(named(code, name.split('.')[1]!)).toBe(true)
  })

  it('no two entries share a code unless they are the same condition', () => {
    const seen = new Map<number, string[]>()
    for (const [name, code] of catalogueCodes()) seen.set(code, [...(seen.get(code) ?? []), name])
    const shared = [...seen.entries()].filter(([, names]) => names.length > 1).map(([code, names]) => `${code}: ${names.join(', ')}`)
    expect(shared).toEqual([])
  })
})
