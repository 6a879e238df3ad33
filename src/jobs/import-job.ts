import type { Logger } from 'pino'
import type { CsvRow, LineError, Mode } from '../csv/types.js'
import type { Db, Queryable } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import {
  advanceImport, findImport, finishImport, lockImport, nextUnappliedLines, recordLineOutcomes, type ImportRow, type StoredLine,
} from '../db/imports-repository.js'
import { enqueueCommandEnded } from '../db/outbox-repository.js'
import { applyEntries } from '../provisioning/apply.js'
import { planRows } from '../provisioning/plan.js'
import { loadSnapshot } from '../provisioning/snapshot.js'
import type { StoredInput } from '../provisioning/intake.js'
import { hashPassword } from '../services/passwords.js'
import type { PasswordHasher } from '../services/hash-pool.js'

export interface ImportJobDeps {
  db: Db
  logger: Logger
  xmppDomain: string
  chunkSize: number
  /** The sized hashing pool; one libuv hash at a time per line otherwise (tests). */
  hasher?: Pick<PasswordHasher, 'hash'>
}

export interface RunOptions {
  /** Stops at the next chunk boundary (shutdown, lost company lock); the import stays Pending. */
  signal?: AbortSignal
  /** Runs first inside each chunk's transaction; throwing rolls the chunk back. */
  guard?: (tx: Queryable) => Promise<void>
}

interface Window { lines: StoredLine[], hashes: Promise<Map<number, string | null>>, fromStart: boolean }

/**
 * Applies an import chunk by chunk. Each chunk is ONE transaction that locks the import row,
 * plans the chunk's lines against the rows as they are now, applies them, records each line's
 * result and advances the counters: a crash redoes at most the chunk in flight, never a line twice.
 * Passwords are hashed before that transaction, off the event loop, and the next chunk's hashing
 * overlaps the current chunk's transaction, so the import costs about its hashing time.
 */
export async function runImport (deps: ImportJobDeps, reqId: string, opts: RunOptions = {}): Promise<void> {
  const hash = deps.hasher ? deps.hasher.hash : (password: string) => hashPassword(password)
  const stop = new AbortController()
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal
  // The next chunk's lines are read before the current chunk's transaction (PGlite runs one
  // statement at a time), and hashed while it runs.
  const load = async (afterSeq: number): Promise<Window> => {
    const lines = await nextUnappliedLines(deps.db, reqId, deps.chunkSize, afterSeq)
    const hashes = hashChunk(lines, hash, signal)
    // Awaited later: a failure must not count as unhandled while the transaction runs.
    hashes.catch(() => {})
    return { lines, hashes, fromStart: afterSeq < 0 }
  }
  let ahead: Window | undefined
  try {
    if ((await findImport(deps.db, reqId))?.status !== 'Pending') return
    ahead = await load(-1)
    for (;;) {
      const cur: Window = ahead
      // Every line up to the last chunk's end is applied; an empty window is re-read from the start
      // before the import is called finished.
      if (cur.lines.length === 0 && !cur.fromStart) {
        ahead = await load(-1)
        continue
      }
      const hashes = await cur.hashes
      signal.throwIfAborted()
      ahead = cur.lines.length > 0 ? await load(cur.lines.at(-1)!.seq) : undefined
      const more = await deps.db.transaction(async (tx) => {
        await opts.guard?.(tx)
        const imp = await lockImport(tx, reqId)
        if (imp?.status !== 'Pending') return false
        // Another worker may have applied some of these lines meanwhile: apply only what is still due.
        const due = (await nextUnappliedLines(tx, reqId, deps.chunkSize, (cur.lines[0]?.seq ?? 0) - 1)).filter((l) => hashes.has(l.seq))
        if (due.length > 0) await applyChunk(tx, deps, imp, due, hashes)
        const processed = imp.processed + due.length
        if (processed >= imp.total || (cur.lines.length === 0 && cur.fromStart)) {
          await finish(tx, imp, processed)
          return false
        }
        return true
      })
      if (!more || !ahead) return
    }
  } finally {
    stop.abort(new Error('import run ended'))
    await ahead?.hashes.catch(() => {})
  }
}

async function hashChunk (lines: readonly StoredLine[], hash: (password: string, signal?: AbortSignal) => Promise<string>, signal: AbortSignal): Promise<Map<number, string | null>> {
  const hashes = new Map<number, string | null>()
  await Promise.all(lines.map(async (l) => {
    const password = (l.input as StoredInput).values?.password
    hashes.set(l.seq, typeof password === 'string' && password.length > 0 ? await hash(password, signal) : null)
  }))
  return hashes
}

async function applyChunk (tx: Queryable, deps: ImportJobDeps, imp: ImportRow, due: StoredLine[], hashes: Map<number, string | null>): Promise<void> {
  const rows: CsvRow[] = []
  const errors: LineError[] = []
  const seqByLine = new Map<number, number>()
  for (const l of due) {
    const input = l.input as StoredInput
    seqByLine.set(l.lineNumber, l.seq)
    rows.push({ lineNumber: l.lineNumber, action: l.action as CsvRow['action'], loginEmail: l.loginEmail ?? '', valid: input.valid, values: input.values ?? {}, raw: '' })
    if (input.error) errors.push({ lineNumber: l.lineNumber, ...input.error } as LineError)
  }
  const snapshot = await loadSnapshot(tx, imp.companyId, rows)
  const entries = planRows(rows, errors, snapshot, { companyId: imp.companyId, nostrict: imp.options.nostrict === true, mode: imp.mode as Mode })
  const results = await applyEntries(tx, entries, {
    companyId: imp.companyId,
    xmppDomain: deps.xmppDomain,
    passwordHash: (lineNumber) => hashes.get(seqByLine.get(lineNumber)!) ?? null,
  })
  await recordLineOutcomes(tx, imp.reqId, results.map((r) => ({ ...r, seq: seqByLine.get(r.lineNumber)! })))
  await advanceImport(tx, imp.reqId, {
    processed: results.length,
    succeeded: results.filter((r) => r.status === 'success').length,
    failed: results.filter((r) => r.status === 'failed').length,
    warnings: results.filter((r) => r.status === 'warning').length,
  })
}

async function finish (tx: Queryable, imp: ImportRow, processed: number): Promise<void> {
  await finishImport(tx, imp.reqId, 'Terminated', null)
  if (!imp.commandId) return
  const done = await findImport(tx, imp.reqId)
  await upsertCommandReport(tx, {
    companyId: imp.companyId,
    kind: 'import',
    commandId: imp.commandId,
    status: (done?.failed ?? 0) > 0 ? 'failure' : 'success',
    report: { reqId: imp.reqId, processed, counters: { succeeded: done?.succeeded ?? 0, failed: done?.failed ?? 0, warnings: done?.warnings ?? 0, total: imp.total } },
    reqId: imp.reqId,
    requesterId: imp.requesterId,
  })
  const jid = typeof imp.options.requesterJid === 'string' ? imp.options.requesterJid : null
  if (jid) await enqueueCommandEnded(tx, jid, { commandId: imp.commandId, companyId: imp.companyId, kind: 'import' })
}
