import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/csv/parse.js'
import type { Db } from '../../src/db/db.js'
import { reportPage } from '../../src/db/imports-repository.js'
import { listPbxs } from '../../src/db/pbx-repository.js'
import { softDeleteUsers } from '../../src/db/users-write-repository.js'
import { runImport } from '../../src/jobs/import-job.js'
import { applyEntries } from '../../src/provisioning/apply.js'
import { acceptImport } from '../../src/provisioning/intake.js'
import { planRows } from '../../src/provisioning/plan.js'
import { loadSnapshot } from '../../src/provisioning/snapshot.js'
import { newId } from '../../src/util/ids.js'
import { dbKinds, intercepting } from '../helpers/databases.js'
import { useWorld } from '../helpers/fixtures.js'
import { loadInventory } from '../../src/services/pbx-inventory.js'
import { addUser, holdNumber, numberOf } from './helpers/import-app.js'

// Lines of one chunk are applied in batches (one statement per kind of change); the result must be
// the one a line-by-line apply gives, whatever the lines do to each other, and a batch the database
// refuses must fail only the line that cannot be applied.

const logger = pino({ level: 'silent' })

/** The same database, counting the statements that write users or numbers. */
const countingWrites = (db: Db, seen: { writes: number }) => intercepting(db, (sql, run) => {
  if (/^\s*(INSERT INTO users|UPDATE users|UPDATE phone_numbers)\b/.test(sql)) seen.writes++
  return run()
})

/** The same database, refusing the first `times` statements that start with `prefix`. */
function refusing (db: Db, prefix: string, times: number): Db {
  let left = times
  return intercepting(db, async (sql, run) => {
    if (left > 0 && sql.trimStart().startsWith(prefix)) {
      left--
      throw new Error('refused by the test')
    }
    return run()
  })
}

describe.each(dbKinds())('batched apply on %s', (kind) => {
  const suite = useWorld(kind)

  /**
   * Lines that touch each other's numbers within one chunk (a file names each user once): a number
   * taken from the user created a line before, a number freed by a delete and taken two lines later,
   * a number taken from a user the chunk also updates. y1 holds base+1, y2 base+2 beforehand.
   */
  async function entangledFile (companyId: string, tag: string, base: number): Promise<string> {
    const e = (k: string) => `${k}-${tag}@example.com`
    const y1 = await addUser(suite.tdb.db, companyId, e('y1'), { firstName: 'Y1' })
    const y2 = await addUser(suite.tdb.db, companyId, e('y2'), { firstName: 'Y2' })
    await addUser(suite.tdb.db, companyId, e('y3'), { firstName: 'Y3', jobTitle: 'Old' })
    const pbxId = (await listPbxs(suite.tdb.db, companyId))[0]!.pbxId
    await holdNumber(suite.tdb.db, y1, pbxId, String(base + 1))
    await holdNumber(suite.tdb.db, y2, pbxId, String(base + 2))
    return [
      '__action__;loginEmail;firstName;jobTitle;pbxShortNumber',
      `upsert;${e('x1')};One;;${base}`, // 2: created, takes base
      `upsert;${e('x2')};Two;;${base}`, // 3: created, takes base from x1
      `upsert;${e('y1')};;Eng;`, // 4: y1 updated, keeps base+1
      `delete;${e('y2')};;;`, // 5: frees base+2, y2 deleted
      `upsert;${e('x3')};Three;Ops;${base + 2}`, // 6: created, takes base+2
      `delete;${e('ghost')};;;`, // 7: 3101
      `sync;${e('y3')};Yves;;`, // 8: jobTitle cleared
      `upsert;${e('x4')};Four;;${base + 1}`, // 9: created, takes base+1 from y1
    ].join('\n') + '\n'
  }

  async function importFile (db: Db, companyId: string, adminId: string, body: string, chunkSize: number) {
    const summary = await acceptImport(db, {
      companyId,
      operation: 'synchronize',
      body: Buffer.from(body),
      label: null,
      noemails: true,
      nostrict: false,
      requester: { id: adminId, displayName: 'admin', jid: '' },
      // The job under test, not the deletion safeguard of the route (MAX_DELETE_PERCENT=100 is off).
      caller: { id: adminId, rank: 1 },
      maxDeletePercent: 100,
    })
    await runImport({ db, logger, xmppDomain: 'localhost', chunkSize }, summary.reqId)
    const report = await reportPage(suite.tdb.db, summary.reqId, -1, 1000)
    return report.map((l) => ({ lineNumber: l.lineNumber, status: l.status, errorCode: l.errorCode }))
  }

  /** Users of the file (live and deleted) and the numbers they hold, by e-mail prefix. */
  async function stateOf (companyId: string, tag: string) {
    const users = await suite.tdb.db.query<{ who: string, firstName: string | null, jobTitle: string | null, live: boolean, numbers: string[] }>(
      `SELECT split_part(u.login_email, '-', 1) AS who, u.first_name AS "firstName", u.job_title AS "jobTitle", u.deleted_at IS NULL AS live,
              coalesce(array_agg(n.short_number ORDER BY n.short_number) FILTER (WHERE n.id IS NOT NULL), '{}') AS numbers
         FROM users u LEFT JOIN phone_numbers n ON n.user_id = u.id
        WHERE u.company_id = $1 AND u.login_email LIKE $2
        GROUP BY u.id ORDER BY who, live, u.created_at`, [companyId, `%-${tag}@example.com`])
    return users
  }

  const shortOffsets = (users: Awaited<ReturnType<typeof stateOf>>, base: number) =>
    users.map((u) => ({ ...u, numbers: u.numbers.map((n) => Number(n) - base) }))

  it('one chunk applied in batches ends exactly as a line-by-line apply, and reports the same lines', async () => {
    const tag = newId().slice(-8)
    const batchedFile = await entangledFile(suite.world.companyA, `${tag}a`, 2000)
    const oneByOneFile = await entangledFile(suite.world.companyB, `${tag}b`, 3000)
    const batchedWrites = { writes: 0 }
    const oneByOneWrites = { writes: 0 }
    const batched = await importFile(countingWrites(suite.tdb.db, batchedWrites), suite.world.companyA, suite.world.adminA.id, batchedFile, 100)
    const oneByOne = await importFile(countingWrites(suite.tdb.db, oneByOneWrites), suite.world.companyB, suite.world.adminB.id, oneByOneFile, 1)

    const a = shortOffsets(await stateOf(suite.world.companyA, `${tag}a`), 2000)
    const b = shortOffsets(await stateOf(suite.world.companyB, `${tag}b`), 3000)
    expect(a).toEqual(b)
    expect(a).toEqual([
      { who: 'x1', firstName: 'One', jobTitle: null, live: true, numbers: [] },
      { who: 'x2', firstName: 'Two', jobTitle: null, live: true, numbers: [0] },
      { who: 'x3', firstName: 'Three', jobTitle: 'Ops', live: true, numbers: [2] },
      { who: 'x4', firstName: 'Four', jobTitle: null, live: true, numbers: [1] },
      { who: 'y1', firstName: 'Y1', jobTitle: 'Eng', live: true, numbers: [] },
      { who: 'y2', firstName: 'Y2', jobTitle: null, live: false, numbers: [] },
      { who: 'y3', firstName: 'Yves', jobTitle: null, live: true, numbers: [] },
    ])
    expect(batched).toEqual(oneByOne)
    expect(batched).toHaveLength(8)
    expect(batched.filter((l) => l.status !== 'success')).toEqual([{ lineNumber: 7, status: 'failed', errorCode: 3101 }])
    // Batches, not lines: fewer statements wrote the same changes.
    expect(oneByOneWrites.writes).toBeGreaterThanOrEqual(7)
    expect(batchedWrites.writes).toBeLessThan(oneByOneWrites.writes)
  })

  async function planned (companyId: string, csv: string) {
    const parsed = await parseCsv(csv, { endpoint: 'import' })
    const snapshot = await loadSnapshot(suite.tdb.db, companyId, parsed.rows)
    return planRows(parsed.rows, parsed.errors, snapshot, { companyId, nostrict: false, mode: 'user', caller: { id: suite.world.superadmin.id, rank: 3 } })
  }

  const ctx = { companyId: '', xmppDomain: 'localhost', passwordHash: () => null }

  it('a user deleted between planning and applying fails its line (3101) alone; the batch around it is applied', async () => {
    const tag = newId().slice(-8)
    const e = (k: string) => `${k}-${tag}@example.com`
    const ids = [await addUser(suite.tdb.db, suite.world.companyA, e('a')), await addUser(suite.tdb.db, suite.world.companyA, e('b')), await addUser(suite.tdb.db, suite.world.companyA, e('c'))]
    const entries = await planned(suite.world.companyA, `__action__;loginEmail;firstName\nupdate;${e('a')};A2\nupdate;${e('b')};B2\nupdate;${e('c')};C2\n`)
    expect(entries.map((x) => x.outcome)).toEqual(['update', 'update', 'update'])
    await softDeleteUsers(suite.tdb.db, [ids[1]!])

    const results = await suite.tdb.db.transaction((tx) => applyEntries(tx, entries, { ...ctx, companyId: suite.world.companyA }))
    expect(results.map((r) => [r.lineNumber, r.status, r.errorCode])).toEqual([[2, 'success', null], [3, 'failed', 3101], [4, 'success', null]])
    const names = await suite.tdb.db.query<{ id: string, firstName: string | null }>('SELECT id, first_name AS "firstName" FROM users WHERE id = ANY($1::bpchar[]) ORDER BY login_email', [ids])
    expect(names.map((n) => n.firstName)).toEqual(['A2', null, 'C2'])
  })

  it('an e-mail taken by another company between planning and applying fails that create alone as 409600 (unique race); the others are created', async () => {
    const tag = newId().slice(-8)
    const e = (k: string) => `${k}-${tag}@example.com`
    const entries = await planned(suite.world.companyA, `__action__;loginEmail;firstName\ncreate;${e('p')};P\ncreate;${e('q')};Q\ncreate;${e('r')};R\n`)
    expect(entries.map((x) => x.outcome)).toEqual(['create', 'create', 'create'])
    await addUser(suite.tdb.db, suite.world.companyB, e('q'))

    const results = await suite.tdb.db.transaction((tx) => applyEntries(tx, entries, { ...ctx, companyId: suite.world.companyA }))
    expect(results.map((r) => [r.lineNumber, r.status, r.errorCode])).toEqual([[2, 'success', null], [3, 'failed', 409600], [4, 'success', null]])
    const live = await suite.tdb.db.query<{ who: string, companyId: string }>(
      'SELECT split_part(login_email, \'-\', 1) AS who, company_id AS "companyId" FROM users WHERE login_email LIKE $1 AND deleted_at IS NULL ORDER BY who', [`%-${tag}@example.com`])
    expect(live).toEqual([{ who: 'p', companyId: suite.world.companyA }, { who: 'q', companyId: suite.world.companyB }, { who: 'r', companyId: suite.world.companyA }])
  })

  it('a number removed from the inventory between planning and applying fails its attach (1009) or detach (1012) alone', async () => {
    const tag = newId().slice(-8)
    const e = (k: string) => `${k}-${tag}@example.com`
    await addUser(suite.tdb.db, suite.world.companyA, e('taker'))
    const holder = await addUser(suite.tdb.db, suite.world.companyA, e('holder'))
    const other = await addUser(suite.tdb.db, suite.world.companyA, e('other'))
    const [n1, n2, n3] = [1, 2, 3].map((k) => String(7_000_000 + parseInt(tag.slice(-4), 16) * 10 + k)) as [string, string, string]
    const pbxId = (await listPbxs(suite.tdb.db, suite.world.companyA))[0]!.pbxId
    await loadInventory(suite.tdb.db, { companyId: suite.world.companyA, pbxId, numbers: [{ shortNumber: n1, internalNumber: null, number: null }, { shortNumber: n2, internalNumber: null, number: null }, { shortNumber: n3, internalNumber: null, number: null }] })
    await holdNumber(suite.tdb.db, holder, pbxId, n2)
    await holdNumber(suite.tdb.db, other, pbxId, n3)
    const entries = await planned(suite.world.companyA, [
      '__action__;loginEmail;pbxId;pbxShortNumber',
      `attach;${e('taker')};${pbxId};${n1}`,
      `detach;${e('holder')};;`,
      `detach;${e('other')};;`,
    ].join('\n') + '\n')
    expect(entries.map((x) => x.outcome)).toEqual(['attach', 'detach', 'detach'])
    await suite.tdb.db.query('DELETE FROM phone_numbers WHERE company_id = $1 AND short_number = ANY($2::text[])', [suite.world.companyA, [n1, n2]])

    const results = await suite.tdb.db.transaction((tx) => applyEntries(tx, entries, { ...ctx, companyId: suite.world.companyA }))
    expect(results.map((r) => [r.lineNumber, r.status, r.errorCode])).toEqual([[2, 'failed', 1009], [3, 'failed', 1012], [4, 'success', null]])
    expect((await numberOf(suite.tdb.db, pbxId, n3)).userId).toBeNull()
  })

  it('a line the database refuses for a reason of its own (not a race, not transient) fails alone as 3199; the others apply', async () => {
    const tag = newId().slice(-8)
    const emails = Array.from({ length: 3 }, (_, i) => `s${i}-${tag}@example.com`)
    for (const m of emails) await addUser(suite.tdb.db, suite.world.companyA, m, { firstName: 'Before' })
    const body = ['__action__;loginEmail;firstName', ...emails.map((m, i) => `upsert;${m};After${i}`)].join('\n') + '\n'
    // Refused three times: the chunk without savepoints, the batch, then the first line alone.
    const report = await importFile(refusing(suite.tdb.db, 'UPDATE users u SET', 3), suite.world.companyA, suite.world.adminA.id, body, 100)
    expect(report).toEqual([{ lineNumber: 2, status: 'failed', errorCode: 3199 }, { lineNumber: 3, status: 'success', errorCode: null }, { lineNumber: 4, status: 'success', errorCode: null }])
  })

  it('a batch refused inside the import rolls its chunk back; the chunk is applied again, each line once', async () => {
    const tag = newId().slice(-8)
    const emails = Array.from({ length: 6 }, (_, i) => `r${i}-${tag}@example.com`)
    for (const m of emails) await addUser(suite.tdb.db, suite.world.companyA, m, { firstName: 'Before' })
    const body = ['__action__;loginEmail;firstName', ...emails.map((m, i) => `upsert;${m};After${i}`)].join('\n') + '\n'
    // Refused twice: once without savepoints (the chunk is rolled back), once as a batch under its
    // savepoint; the lines then go one by one.
    const report = await importFile(refusing(suite.tdb.db, 'UPDATE users u SET', 2), suite.world.companyA, suite.world.adminA.id, body, 100)
    expect(report).toEqual(emails.map((_, i) => ({ lineNumber: i + 2, status: 'success', errorCode: null })))
    const rows = await suite.tdb.db.query<{ firstName: string, n: number }>(
      'SELECT first_name AS "firstName", count(*) OVER ()::int AS n FROM users WHERE login_email = ANY($1::text[]) ORDER BY login_email', [emails])
    expect(rows.map((r) => r.firstName)).toEqual(emails.map((_, i) => `After${i}`))
    const results = await suite.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM import_line_results r JOIN import_lines l USING (req_id, seq) WHERE l.login_email = ANY($1::text[])', [emails])
    expect(results).toEqual([{ n: 6 }])
  })
})
