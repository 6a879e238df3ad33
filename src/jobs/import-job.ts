import type { Logger } from 'pino'
import type { CsvRow, LineError, Mode } from '../csv/types.js'
import { loggableError, type Db, type Queryable } from '../db/db.js'
import { touchImport } from '../db/import-endings-repository.js'
import {
  addVoiceCounts, appliedSeqs, findImport, lockImport, nextUnappliedLines, recordLineOutcomes, type ImportRow, type StoredLine,
} from '../db/imports-repository.js'
import { applyEntries, BatchRefused } from '../provisioning/apply.js'
import { PlanCodes } from '../provisioning/codes.js'
import { endImport, endPendingImport } from '../provisioning/import-end.js'
import { planRows, type Caller, type PlanEntry } from '../provisioning/plan.js'
import { planRevertChunk, type RevertInput } from '../provisioning/revert.js'
import { recordUndos, touchedIds } from '../provisioning/undo.js'
import { loadUndoState } from '../db/revert-repository.js'
import { countVoice } from '../provisioning/voice-plan.js'
import { createCompanyScope } from '../services/company-scope.js'
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
  let lastSeq = -1
  const load = async (afterSeq: number): Promise<Window> => {
    const lines = await nextUnappliedLines(deps.db, reqId, deps.chunkSize, afterSeq, lastSeq)
    const hashes = hashChunk(lines, hash, signal)
    // Awaited later: a failure must not count as unhandled while the transaction runs.
    hashes.catch(() => {})
    return { lines, hashes, fromStart: afterSeq < 0 }
  }
  // The next window is hashed while the current chunk's transaction runs. On PostgreSQL another
  // connection reads it meanwhile too; PGlite would queue the read behind the transaction and the
  // hashing with it, so there it is read first.
  let ahead: Promise<Window> | undefined
  const next = (afterSeq: number): Promise<Window> => {
    const window = load(afterSeq)
    // Awaited later: a failure must not count as unhandled while the transaction runs.
    window.catch(() => {})
    return window
  }
  try {
    const found = await findImport(deps.db, reqId)
    if (found?.status !== 'Pending') return
    lastSeq = found.total - 1
    await touchImport(deps.db, reqId)
    const log = deps.logger.child({ reqId, companyId: found.companyId })
    const started = performance.now()
    log.info({ processed: found.processed, total: found.total }, 'applying import')
    ahead = next(-1)
    for (;;) {
      const cur: Window = await ahead
      // Every line up to the last chunk's end is applied; an empty window is re-read from the start
      // before the import is called finished.
      if (cur.lines.length === 0 && !cur.fromStart) {
        ahead = next(-1)
        continue
      }
      const hashes = await cur.hashes
      signal.throwIfAborted()
      ahead = cur.lines.length > 0 ? next(cur.lines.at(-1)!.seq) : undefined
      if (deps.db.kind === 'pglite') await ahead
      const window = (optimistic: boolean) => deps.db.transaction(async (tx) => {
        await opts.guard?.(tx)
        // Cancelled, or Failed by the watchdog while this worker was away: this chunk applies nothing.
        const imp = await lockImport(tx, reqId)
        if (imp?.status !== 'Pending') return 'ended' as const
        // Another worker may have applied some of these lines meanwhile: apply only what is still due.
        const applied = cur.lines.length > 0 ? await appliedSeqs(tx, reqId, cur.lines[0]!.seq, cur.lines.at(-1)!.seq) : new Set<number>()
        const due = cur.lines.filter((l) => !applied.has(l.seq))
        if (due.length > 0) await applyChunk(tx, deps, imp, due, hashes, optimistic)
        const processed = imp.processed + due.length
        if (processed >= imp.total || (cur.lines.length === 0 && cur.fromStart)) {
          await endImport(tx, imp, { status: 'Terminated' })
          return 'terminated' as const
        }
        return 'more' as const
      })
      // Without savepoints first; a refused batch rolls the chunk back and it is applied again with
      // them, so that only the lines that cannot be applied fail.
      const state = await window(true).catch((err: unknown) => {
        if (err instanceof BatchRefused) return window(false)
        throw err
      })
      if (state === 'ended') log.info('import ended by someone else (cancelled or failed); this worker stops')
      if (state === 'terminated') log.info({ ms: Math.round(performance.now() - started), total: found.total }, 'import terminated')
      if (state !== 'more' || !ahead) return
    }
  } finally {
    stop.abort(new Error('import run ended'))
    // The read-ahead's work is no longer wanted (the run has its outcome); its failure, often the abort above, changes nothing.
    await ahead?.then((w) => w.hashes).catch(() => {})
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

/** A file's lines planned as the check plans them, against the rows as they are in this transaction. */
async function planFileChunk (tx: Queryable, imp: ImportRow, due: StoredLine[], caller: Caller): Promise<PlanEntry[]> {
  const rows: CsvRow[] = []
  const errors: LineError[] = []
  for (const l of due) {
    const input = l.input as StoredInput
    rows.push({ lineNumber: l.lineNumber, action: l.action as CsvRow['action'], loginEmail: l.loginEmail ?? '', valid: input.valid, values: input.values ?? {}, raw: '' })
    if (input.error) errors.push({ lineNumber: l.lineNumber, ...input.error } as LineError)
  }
  const snapshot = await loadSnapshot(tx, imp.companyId, rows, { voice: imp.mode === 'rainbowvoice' })
  return planRows(rows, errors, snapshot, { companyId: imp.companyId, nostrict: imp.options.nostrict === true, mode: imp.mode as Mode, caller })
}

async function applyChunk (tx: Queryable, deps: ImportJobDeps, imp: ImportRow, due: StoredLine[], hashes: Map<number, string | null>, optimistic: boolean): Promise<void> {
  const seqByLine = new Map<number, number>()
  for (const l of due) seqByLine.set(l.lineNumber, l.seq)
  const caller = await createCompanyScope(tx).requesterNow(imp.requesterId, imp.companyId)
  // A revert (issue 18) plans its lines from their before-images; its hashes are the ones it puts back.
  const { entries, hashOf } = imp.operation === 'revert'
    ? await planRevertChunk(tx, imp.companyId, caller, due.map((l) => ({ lineNumber: l.lineNumber, action: l.action, loginEmail: l.loginEmail ?? '', undo: (l.input as RevertInput).undo ?? null })))
    : { entries: await planFileChunk(tx, imp, due, caller), hashOf: (lineNumber: number) => hashes.get(seqByLine.get(lineNumber)!) ?? null }
  // Read before applying: the before-images are what the lines found.
  const touched = touchedIds(entries)
  const before = await loadUndoState(tx, touched.userIds, touched.numberIds)
  const results = await applyEntries(tx, entries, {
    logger: deps.logger.child({ reqId: imp.reqId, companyId: imp.companyId }),
    companyId: imp.companyId,
    xmppDomain: deps.xmppDomain,
    passwordHash: hashOf,
    optimistic,
  })
  const undos = recordUndos(before, entries, results, hashOf)
  const withPassword = due.filter((l) => 'password' in ((l.input as StoredInput).values ?? {})).map((l) => l.seq)
  await recordLineOutcomes(tx, imp.reqId, results.map((r, i) => ({ ...r, seq: seqByLine.get(r.lineNumber)!, undo: undos[i] })), withPassword)
  if (imp.mode === 'rainbowvoice') {
    // results[i] is entries[i]'s outcome: a line failed at apply time changed nothing.
    await addVoiceCounts(tx, imp.reqId, countVoice(entries.flatMap((e, i) => e.voice && results[i]!.status !== 'failed' ? [e.voice] : [])))
  }
}

/**
 * The job failed `attempts` times in a row (retries used up): the import ends Failed, keeping what
 * it applied. The cause goes to the log only; errorMsg is shown to API callers and never echoes a
 * database message.
 */
export async function giveUpImport (deps: Pick<ImportJobDeps, 'db' | 'logger'>, reqId: string, attempts: number, err: unknown): Promise<void> {
  deps.logger.error({ err: loggableError(err), reqId, attempts }, 'import failed on every attempt; it ends Failed')
  const errorMsg = `the import failed ${attempts} time${attempts === 1 ? '' : 's'} in a row and was stopped; the lines it had not applied are marked ${PlanCodes.notApplied}`
  await endPendingImport(deps.db, reqId, { status: 'Failed', errorMsg })
}
