import { parseCsv } from '../csv/parse.js'
import type { LineError, RowValues } from '../csv/types.js'
import type { Db } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import { findImport, insertImport, insertImportLines, type NewImportLine } from '../db/imports-repository.js'
import { Errors } from '../errors.js'
import { assessDeletions, plannedDeletions, requireConfirmation } from './deletion-safeguard.js'
import type { Caller } from './plan.js'
import { requestId } from './request-id.js'

/** What a stored line keeps until it is applied (the password is removed once it is). */
export interface StoredInput {
  valid: boolean
  values?: RowValues
  error?: Pick<LineError, 'code' | 'message' | 'column'>
}

export interface ImportRequest {
  companyId: string
  operation: 'import' | 'synchronize' | 'rainbowvoice'
  body: Uint8Array
  label: string | null
  noemails: boolean
  nostrict: boolean
  delimiter?: string | undefined
  comment?: string | undefined
  commandId?: string | undefined
  requester: { id: string, displayName: string, jid: string }
  /** Who sends the file (D12): its deletions are counted as the import would plan them for it. */
  caller: Caller
  /** Deletion safeguard: the share of the company's users above which deletions need `confirmDeletes`. */
  maxDeletePercent: number
  /** The deletion count the sender confirms (query confirmDeletes). */
  confirmDeletes?: number | undefined
}

export interface ImportSummary {
  reqId: string
  mode: string
  status: 'Pending'
  userId: string
  displayName: string
  /** "" when not given, as in every other view of an import (reports.ts importView). */
  label: string
  startTime: string
  companyId: string
}

function conflict (reqId: string, pending: boolean) {
  return pending
    ? Errors.conflict(`This file is already being imported as reqId ${reqId} and its report is still Pending: wait until it has ended, then delete its report (DELETE /users/imports/${reqId}/details) to import it again`)
    : Errors.conflict(`This file was already imported as reqId ${reqId}; delete its report (DELETE /users/imports/${reqId}/details) to import it again`)
}

/**
 * Checks the file as the check endpoint does, then stores the import and every line in one
 * transaction before answering: nothing is applied yet, nothing accepted can be lost. A file-level
 * error is a 400 and stores nothing; bad lines are stored and reported as failed lines. Deletions
 * over MAX_DELETE_PERCENT without the matching confirmDeletes are a 409630 and store nothing: they
 * are counted here, since the lines are planned again only in the background.
 */
export async function acceptImport (db: Db, req: ImportRequest): Promise<ImportSummary> {
  const reqId = await requestId(req.companyId, req.operation, req.body)
  const earlier = await findImport(db, reqId)
  if (earlier) throw conflict(reqId, earlier.status === 'Pending')
  const parsed = await parseCsv(req.body, { endpoint: req.operation, delimiter: req.delimiter, comment: req.comment })
  const firstError = new Map<number, LineError>()
  for (const e of parsed.errors) if (!firstError.has(e.lineNumber)) firstError.set(e.lineNumber, e)
  const lines: NewImportLine[] = parsed.rows.map((row, seq) => {
    const error = firstError.get(row.lineNumber)
    const input: StoredInput = error || !row.valid
      ? { valid: false, error: error ? { code: error.code, message: error.message, ...(error.column ? { column: error.column } : {}) } : undefined }
      : { valid: true, values: row.values }
    return { seq, lineNumber: row.lineNumber, action: row.action, loginEmail: row.loginEmail, input, line: row.raw }
  })
  if (req.maxDeletePercent < 100) {
    const deletions = await plannedDeletions(db, parsed.rows, new Set(firstError.keys()), { companyId: req.companyId, nostrict: req.nostrict, mode: parsed.mode, caller: req.caller })
    if (deletions > 0) requireConfirmation(await assessDeletions(db, req.companyId, deletions, req.maxDeletePercent), req.confirmDeletes)
  }
  const startTime = await db.transaction(async (tx) => {
    const created = await insertImport(tx, {
      reqId,
      companyId: req.companyId,
      operation: req.operation,
      mode: parsed.mode,
      label: req.label,
      options: { noemails: req.noemails, nostrict: req.nostrict, delimiter: parsed.delimiter, comment: req.comment ?? '%', columns: parsed.columns, requesterJid: req.requester.jid },
      commandId: req.commandId ?? null,
      requesterId: req.requester.id,
      requesterDisplayName: req.requester.displayName,
      total: lines.length,
    })
    // Two identical requests racing: the unique reqId lets exactly one through (D2).
    // It is Pending: it was stored by a request still running or just answered.
    if (!created) throw conflict(reqId, true)
    await insertImportLines(tx, reqId, lines)
    if (req.commandId) {
      await upsertCommandReport(tx, { companyId: req.companyId, kind: 'import', commandId: req.commandId, status: 'pending', report: { reqId }, reqId, requesterId: req.requester.id })
    }
    return created
  })
  return {
    reqId,
    mode: parsed.mode,
    status: 'Pending',
    userId: req.requester.id,
    displayName: req.requester.displayName,
    label: req.label ?? '',
    startTime: startTime.toISOString(),
    companyId: req.companyId,
  }
}
