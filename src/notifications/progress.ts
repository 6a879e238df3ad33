import type { Logger } from 'pino'
import type { Db } from '../db/db.js'
import { advanceProgress, listProgressDue } from '../db/import-progress-repository.js'
import { enqueueImportStatus } from '../db/outbox-repository.js'

/**
 * Owes an import_status (contract §3.5) for each running synchronize with a commandId whose
 * counters moved, at most one per interval, and a final one when it ends. Read from the imports
 * table, so the import job needs no hook; each message commits with its sequence number.
 */
export async function emitProgress (db: Db, logger: Logger, intervalSeconds: number): Promise<number> {
  let emitted = 0
  for (const due of await listProgressDue(db, intervalSeconds)) {
    const seq = await db.transaction(async (tx) => {
      const next = await advanceProgress(tx, due)
      if (next === undefined || !due.toJid) return undefined
      await enqueueImportStatus(tx, due.toJid, {
        reqId: due.reqId,
        companyId: due.companyId,
        commandId: due.commandId,
        seq: next,
        status: due.status,
        succeeded: due.succeeded,
        failed: due.failed,
        warnings: due.warnings,
        total: due.total,
      })
      return next
    })
    if (seq !== undefined) {
      emitted++
      logger.debug({ reqId: due.reqId, seq, status: due.status }, 'import_status owed')
    }
  }
  return emitted
}
