import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db, Queryable } from '../../src/db/db.js'
import { findImport } from '../../src/db/imports-repository.js'
import { runImport } from '../../src/jobs/import-job.js'
import { acceptImport } from '../../src/provisioning/intake.js'
import { importView } from '../../src/provisioning/reports.js'
import { verifyPassword } from '../../src/services/passwords.js'
import { newId } from '../../src/util/ids.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'

// The job alone, against the database: chunks of 3 over a 10-line file, a crash in any chunk's
// transaction, a rerun, two workers at once. Every line must be applied exactly once.

const CHUNK = 3
const logger = pino({ level: 'silent' })

class SimulatedCrash extends Error {}

/** The same database, but its n-th transaction throws after doing all its work: it rolls back, as if the worker died before COMMIT. */
function crashingOn (db: Db, n: number): Db {
  let calls = 0
  return {
    kind: db.kind,
    query: <R>(sql: string, params?: readonly unknown[]) => db.query<R>(sql, params),
    exec: (sql: string) => db.exec(sql),
    exclusive: <T>(key: string, fn: (s: Queryable) => Promise<T>) => db.exclusive(key, fn),
    ping: () => db.ping(),
    close: async () => {},
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction(async (tx) => {
      const result = await fn(tx)
      if (++calls === n) throw new SimulatedCrash(`simulated crash in transaction ${n}`)
      return result
    }),
  }
}

/** The same database, noting the import's progress after each committed transaction. */
function observing (db: Db, reqId: string, seen: Array<{ status: string, processed: number, done: number }>): Db {
  return {
    ...crashingOn(db, -1),
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      const result = await db.transaction(fn)
      const imp = (await findImport(db, reqId))!
      seen.push({ status: imp.status, processed: imp.processed, done: imp.succeeded + imp.failed + imp.warnings })
      return result
    },
  }
}

interface LineRow { seq: number, line_number: number, status: string | null, user_id: string | null, error_code: number | null, applied_at: Date | null, input: { valid: boolean, values?: Record<string, unknown> } }

describe.each(dbKinds())('import job: chunks and exactly-once on %s', (kind) => {
  let tdb: TestDb
  let world: World

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
  })
  afterAll(async () => {
    await tdb?.close()
  })

  const deps = (db: Db) => ({ db, logger, xmppDomain: 'localhost', chunkSize: CHUNK })

  /**
   * 10 data lines: 8 creates with passwords, an invalid e-mail (3010) on line 5 and an update of a
   * missing user (3101) on line 9. Expected: 8 succeeded, 2 failed.
   */
  async function acceptTenLines () {
    const t = newId().slice(-10)
    const emails: string[] = []
    const passwords = new Map<string, string>()
    const lines = ['__action__;loginEmail;password;firstName']
    for (let n = 2; n <= 11; n++) {
      if (n === 5) {
        lines.push(`create;not-an-email-${t};Pw5!${t}Zz;Bad`)
      } else if (n === 9) {
        lines.push(`update;missing-${t}@example.com;;Ghost`)
      } else {
        const email = `job-${n}-${t}@example.com`
        const password = `Pw${n}!${t}Zz`
        emails.push(email)
        passwords.set(email, password)
        lines.push(`create;${email};${password};User${n}`)
      }
    }
    const summary = await acceptImport(tdb.db, {
      companyId: world.companyA,
      operation: 'import',
      body: Buffer.from(lines.join('\n') + '\n'),
      label: 'job test',
      noemails: true,
      nostrict: false,
      requester: { id: world.adminA.id, displayName: 'Admin A', jid: `${world.adminA.id}@localhost` },
      // The job under test, not the deletion safeguard of the route (MAX_DELETE_PERCENT=100 is off).
      caller: { id: world.adminA.id, rank: 1 },
      maxDeletePercent: 100,
    })
    return { reqId: summary.reqId, emails, passwords, allPasswords: [...passwords.values(), `Pw5!${t}Zz`] }
  }

  const linesOf = (reqId: string) => tdb.db.query<LineRow>('SELECT l.seq, l.line_number, r.status, r.user_id, r.error_code, r.applied_at, l.input FROM import_lines l LEFT JOIN import_line_results r ON r.req_id = l.req_id AND r.seq = l.seq WHERE l.req_id = $1 ORDER BY l.seq', [reqId])
  const usersNamed = (email: string) => tdb.db.query<{ id: string, password_hash: string | null, deleted_at: Date | null }>('SELECT id, password_hash, deleted_at FROM users WHERE login_email = $1', [email])

  /** Everything that must hold once the import has ended, however many crashes it went through. */
  async function expectAppliedOnce (file: Awaited<ReturnType<typeof acceptTenLines>>) {
    const imp = (await findImport(tdb.db, file.reqId))!
    expect(imp).toMatchObject({ status: 'Terminated', total: 10, processed: 10, succeeded: 8, failed: 2, warnings: 0 })
    expect(imp.succeeded + imp.failed + imp.warnings).toBe(imp.total)
    expect(importView(imp).counters).toEqual({ succeeded: 8, failed: 2, warnings: 0, total: 10 })
    const lines = await linesOf(file.reqId)
    expect(lines.map((l) => l.line_number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(lines.every((l) => l.applied_at !== null)).toBe(true)
    expect(lines.map((l) => l.error_code)).toEqual([null, null, null, 3010, null, null, null, 3101, null, null])
    for (const email of file.emails) {
      const users = await usersNamed(email)
      expect(users, email).toHaveLength(1)
      expect(users[0]!.deleted_at).toBeNull()
      const line = lines.find((l) => l.user_id === users[0]!.id)
      expect(line?.status, email).toBe('success')
    }
    // One user per line, none twice: the 8 successes name 8 distinct users.
    expect(new Set(lines.filter((l) => l.status === 'success').map((l) => l.user_id)).size).toBe(8)
    // Passwords are kept only until their line is applied.
    const text = JSON.stringify(lines)
    expect(text).not.toContain('"password"')
    for (const pw of file.allPasswords) expect(text).not.toContain(pw)
    const [first] = await usersNamed(file.emails[0]!)
    expect(await verifyPassword(first!.password_hash, file.passwords.get(file.emails[0]!)!)).toBe(true)
  }

  it('applies a 10-line file in chunks of 3; processed advances by chunk while Pending; Terminated with the last', async () => {
    const file = await acceptTenLines()
    const pending = importView((await findImport(tdb.db, file.reqId))!)
    expect(pending).toMatchObject({ status: 'Pending', counters: { succeeded: 0, failed: 0, warnings: 0, total: 10, processed: 0 } })
    const seen: Array<{ status: string, processed: number, done: number }> = []
    await runImport(deps(observing(tdb.db, file.reqId, seen)), file.reqId)
    expect(seen).toEqual([
      { status: 'Pending', processed: 3, done: 3 },
      { status: 'Pending', processed: 6, done: 6 },
      { status: 'Pending', processed: 9, done: 9 },
      { status: 'Terminated', processed: 10, done: 10 },
    ])
    await expectAppliedOnce(file)
    // Running it again does nothing.
    await runImport(deps(tdb.db), file.reqId)
    await expectAppliedOnce(file)
  })

  it.each([1, 2, 3, 4])('a crash in transaction %i rolls that chunk back; the rerun applies every line exactly once', async (crashOn) => {
    const file = await acceptTenLines()
    await expect(runImport(deps(crashingOn(tdb.db, crashOn)), file.reqId)).rejects.toBeInstanceOf(SimulatedCrash)

    // The chunks before the crash stand, the crashed one left no trace.
    const committed = CHUNK * (crashOn - 1)
    const imp = (await findImport(tdb.db, file.reqId))!
    expect(imp.status).toBe('Pending')
    expect(imp.processed).toBe(committed)
    expect(imp.succeeded + imp.failed + imp.warnings).toBe(committed)
    expect(importView(imp).counters.processed).toBe(committed)
    const lines = await linesOf(file.reqId)
    expect(lines.filter((l) => l.applied_at !== null).map((l) => l.seq)).toEqual(lines.slice(0, committed).map((l) => l.seq))
    for (const [i, l] of lines.entries()) {
      const email = file.emails.find((e) => l.line_number === Number(/^job-(\d+)-/.exec(e)?.[1]))
      if (!email) continue
      expect(await usersNamed(email), `line ${l.line_number}`).toHaveLength(i < committed ? 1 : 0)
      // An applied line has forgotten its password; a line still due keeps it until it is applied.
      expect('password' in (l.input.values ?? {}), `line ${l.line_number}`).toBe(i >= committed)
    }

    await runImport(deps(tdb.db), file.reqId)
    await expectAppliedOnce(file)
  })

  it('two crashes in a row, then a clean run: still exactly once', async () => {
    const file = await acceptTenLines()
    await expect(runImport(deps(crashingOn(tdb.db, 2)), file.reqId)).rejects.toBeInstanceOf(SimulatedCrash)
    await expect(runImport(deps(crashingOn(tdb.db, 2)), file.reqId)).rejects.toBeInstanceOf(SimulatedCrash)
    expect((await findImport(tdb.db, file.reqId))!.processed).toBe(6)
    await runImport(deps(tdb.db), file.reqId)
    await expectAppliedOnce(file)
  })

  it('two workers on the same import at once apply each line once', async () => {
    const file = await acceptTenLines()
    await Promise.all([runImport(deps(tdb.db), file.reqId), runImport(deps(tdb.db), file.reqId)])
    await expectAppliedOnce(file)
  })
})
