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

export interface ImportJobDeps {
  db: Db
  logger: Logger
  xmppDomain: string
  chunkSize: number
}

/**
 * Applies an import chunk by chunk. Each chunk is ONE transaction that locks the import row,
 * plans the chunk's lines against the rows as they are now, applies them, records each line's
 * result and advances the counters: a crash redoes at most the chunk in flight, never a line twice.
 * Passwords are hashed before the transaction, off the event loop.
 */
export async function runImport (deps: ImportJobDeps, reqId: string): Promise<void> {
  for (;;) {
    const current = await findImport(deps.db, reqId)
    if (current?.status !== 'Pending') return
    const lines = await nextUnappliedLines(deps.db, reqId, deps.chunkSize)
    const hashes = await hashChunk(lines)
    const more = await deps.db.transaction(async (tx) => {
      const imp = await lockImport(tx, reqId)
      if (imp?.status !== 'Pending') return false
      // Another worker may have applied some of these lines meanwhile: apply only what is still due.
      const due = (await nextUnappliedLines(tx, reqId, deps.chunkSize)).filter((l) => hashes.has(l.seq))
      if (due.length > 0) await applyChunk(tx, deps, imp, due, hashes)
      const processed = imp.processed + due.length
      if (processed >= imp.total || lines.length === 0) {
        await finish(tx, imp, processed)
        return false
      }
      return true
    })
    if (!more) return
  }
}

async function hashChunk (lines: readonly StoredLine[]): Promise<Map<number, string | null>> {
  const hashes = new Map<number, string | null>()
  await Promise.all(lines.map(async (l) => {
    const password = (l.input as StoredInput).values?.password
    hashes.set(l.seq, typeof password === 'string' && password.length > 0 ? await hashPassword(password) : null)
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
