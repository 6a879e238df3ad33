import { afterAll, describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import type { BatchSetup } from '../../src/csv/batches.js'
import { createCheckPool } from '../../src/csv/check-pool.js'
import type { ParseOptions } from '../../src/csv/parse-options.js'
import type { CsvRow, LineError } from '../../src/csv/types.js'
import { childEnv, spawnNode, within, type Proc } from '../helpers/processes.js'
import { csv, fileErrorOf, fixture, parse } from './helpers.js'

const HEADER = '__action__;loginEmail;password;firstName;lastName;businessPhone0;country'

/** About 60 characters a line: 9,000 lines make four batches of 128 K characters. */
function lines (count: number, at: Record<number, string> = {}): string[] {
  return Array.from({ length: count }, (_, i) => at[i + 2] ?? `create;user${i}@example.com;;First${i};Last${i};+33 1 23 45 ${String(i % 100).padStart(2, '0')} 67;FRA`)
}

/** What a parse gives: its result, or the file-level error it rejects with. */
async function outcome (input: string | Uint8Array, options: Partial<ParseOptions> = {}) {
  const p = parse(input, options.endpoint ?? 'import', options)
  return p.then((r) => ({ result: r, refused: undefined }), async () => ({ result: undefined, refused: await fileErrorOf(p) }))
}

/**
 * Threads of this process at the line-checking threads' nice value (check-task.ts renices each
 * one to 5; nothing else here does): how many of them run, seen from outside the pool.
 */
function checkingThreads (): number {
  let n = 0
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16] === '5') n++
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err // a thread that ended meanwhile
    }
  }
  return n
}

describe('lines checked on worker threads', () => {
  const pool = createCheckPool(2)
  afterAll(() => pool.close())

  const same = async (input: string | Uint8Array, options: Partial<ParseOptions> = {}) => {
    const here = await outcome(input, options)
    expect(await outcome(input, { ...options, pool })).toEqual(here)
    return here
  }

  it('give the same rows, errors and file errors as the event loop, for small files of every kind', async () => {
    const files = [
      fixture('user-template-2018.csv'),
      csv('__action__;loginEmail;firstName', 'create;a@example.com;A', 'create;A@EXAMPLE.com;B', 'create;a@example.com'),
      csv('% comment', '', ';;', '__action__;loginEmail;firstName', 'create;b@example.com;"quoted % kept" % comment', '', 'create;c@example.com;\u0000'),
      csv('__action__;loginEmail;firstName', 'create;d@example.com;"never closed'),
      csv('__action__;loginEmail;firstName', 'create;e@example.com;E', 'upsert;f@example.com;F'),
      csv('__action__;loginEmail;firstName', `create;g@example.com;${'x'.repeat(5000)}`),
      csv('__action__;loginEmail;firstName', `create;h@example.com;${';'.repeat(300)}`),
      csv('__action__;loginEmail;first', 'create;i@example.com;I'),
      csv('__action__;loginEmail;firstName'),
    ]
    const kinds = []
    for (const file of files) {
      const r = await same(file)
      kinds.push(r.refused?.code ?? r.result?.errors.map((e) => e.code))
    }
    expect(kinds).toEqual([[], [3004, 3001], [3003], 400501, 400506, 400504, 400504, 400502, 400508])
  })

  it('give the same result over many batches: duplicates across batches, comments, blank and bad lines', async () => {
    const body = lines(9000, {
      3: 'create;user0@example.com;weak;A;B;;FRA',
      4000: '% a comment line breaks the batch',
      4001: '',
      6000: 'create;USER2@example.com;;A;B;+33 1 23 45 01 67;FRA',
      7000: 'create;user7000@example.com;;A;B;12;FRA;extra',
      8500: 'create;other@example.com;;A;B;4.91234E+10;XXX % trailing comment',
    })
    const r = await same(csv(HEADER, ...body))
    expect(r.result?.dataLines).toBe(8998)
    expect(r.result?.errors.map((e) => [e.lineNumber, e.code])).toEqual([[3, 3004], [3, 3011], [6000, 3004], [7000, 3001], [8500, 3013], [8500, 3014]])
  })

  it('refuse the file on its first file-level error in file order, as on the event loop', async () => {
    const late = { 5000: 'sync;user4998@example.com;;A;B;;FRA', 8990: 'create;x@example.com;;"never closed;B;;FRA' }
    expect((await same(csv(HEADER, ...lines(9000, late)))).refused).toMatchObject({ code: 400506, line: 5000 })
    expect((await same(csv(HEADER, ...lines(9000, { 8990: late[8990] })))).refused).toMatchObject({ code: 400501, line: 8990 })
    // The row limit is counted in file order: it wins over an invalid action on the line over it,
    // not over a line with too many fields.
    const limits = { maxRows: 6000, maxColumns: 10 }
    expect((await same(csv(HEADER, ...lines(9000, { 6002: 'nope;a@example.com' })), { limits })).refused).toMatchObject({ code: 400504, line: 6002, details: expect.stringContaining('more than 6000 data lines') })
    expect((await same(csv(HEADER, ...lines(9000, { 6002: ';'.repeat(12) + 'x' })), { limits })).refused).toMatchObject({ code: 400504, line: 6002, details: expect.stringContaining('fields') })
  })

  it('stream the same batches to onRows', async () => {
    const body = Buffer.from(csv(HEADER, ...lines(9000, { 5: 'create;user0@example.com;;A;B;;FRA' })))
    const collect = async (options: Partial<ParseOptions>) => {
      const seen: Array<{ rows: CsvRow[], errors: LineError[] }> = []
      await parse(body, 'import', { ...options, onRows: (rows, errors) => { seen.push({ rows, errors }) } })
      return seen
    }
    const here = await collect({})
    expect(here.length).toBeGreaterThan(3)
    expect(await collect({ pool })).toEqual(here)
  })

  it('refuse work once closed', async () => {
    const closed = createCheckPool(1)
    await closed.close()
    await expect(parse(csv(HEADER, ...lines(10)), 'import', { pool: closed })).rejects.toThrow(/closed/)
  })

  it('start no thread before the first batch, never more than asked, and none once closed', async () => {
    const before = checkingThreads()
    const two = createCheckPool(2)
    try {
      expect(checkingThreads()).toBe(before)
      let most = before
      const sampler = setInterval(() => { most = Math.max(most, checkingThreads()) }, 5)
      const files = [0, 1, 2].map((k) => csv(HEADER, ...lines(9000, { 2: `create;first${k}@example.com;;A;B;;FRA` })))
      try {
        const results = await Promise.all(files.map((f) => parse(f, 'import', { pool: two })))
        expect(results.map((r) => r.dataLines)).toEqual([9000, 9000, 9000])
      } finally {
        clearInterval(sampler)
      }
      expect(most - before).toBe(2)
    } finally {
      await two.close()
    }
    expect(checkingThreads()).toBe(before)
  })

  it('fail only the batch a thread cannot check, and check the next files', async () => {
    const one = createCheckPool(1)
    try {
      const broken = one.check({} as BatchSetup, { text: '', starts: [], ends: [], lines: [] })
      await expect(broken).rejects.toThrow(Error)
      await expect(outcome(csv(HEADER, ...lines(9000)), { pool: one })).resolves.toMatchObject({ result: { dataLines: 9000, errors: [] } })
    } finally {
      await one.close()
    }
  })

  it('fail the check, never hang, when a thread dies before it can check anything', async () => {
    const starved = createCheckPool(1, { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 })
    try {
      for (let k = 0; k < 2; k++) {
        await expect(within(20_000, 'the check settles', parse(csv(HEADER, ...lines(9000)), 'import', { pool: starved }))).rejects.toThrow(/out of memory|exit|thread|worker/i)
      }
    } finally {
      await starved.close()
    }
  })

  // An idle thread is unref'd: a process that checked a file and never closed the threads still exits.
  it('never keep a process alive once idle', async () => {
    const procs: Proc[] = []
    const script = `
      import { createCheckPool } from './src/csv/check-pool.ts'
      import { parseCsv } from './src/csv/parse.ts'
      const text = '${HEADER}\\n' + Array.from({ length: 5000 }, (_, i) => 'create;u' + i + '@example.com;;F;L;;FRA').join('\\n') + '\\n'
      const r = await parseCsv(text, { endpoint: 'import', pool: createCheckPool(2) })
      console.log('rows', r.rows.length)`
    const p = spawnNode(['--import', 'tsx', '--input-type=module', '-e', script], childEnv({}), procs)
    const exit = await within(20_000, 'the process exits by itself', p.exited).finally(() => { for (const q of procs) q.child.kill() })
    expect(p.out.stderr).toBe('')
    expect({ ...exit, stdout: p.out.stdout.trim() }).toEqual({ code: 0, signal: null, stdout: 'rows 5000' })
  })
})
