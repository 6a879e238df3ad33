import { Readable } from 'node:stream'
import type { Queryable } from '../db/db.js'
import { reportPage, type ImportRow } from '../db/imports-repository.js'

const PAGE = 2000

/** D3 counters: always all four numbers, plus `processed` while the import runs. */
export function importView (imp: ImportRow) {
  return {
    reqId: imp.reqId,
    status: imp.status,
    mode: imp.mode,
    userId: imp.requesterId,
    displayName: imp.requesterDisplayName ?? '',
    label: imp.label ?? '',
    companyId: imp.companyId,
    startTime: imp.startTime.toISOString(),
    ...(imp.endTime ? { endTime: imp.endTime.toISOString() } : {}),
    ...(imp.commandId ? { commandId: imp.commandId } : {}),
    ...(imp.errorMsg ? { errorMsg: imp.errorMsg } : {}),
    counters: {
      succeeded: imp.succeeded,
      failed: imp.failed,
      warnings: imp.warnings,
      total: imp.total,
      ...(imp.status === 'Pending' ? { processed: imp.processed } : {}),
    },
  }
}

/**
 * The full report as a stream of JSON text, page by page in file order: a 250,000-line report is
 * never one string in memory.
 */
export function streamImportReport (q: Queryable, imp: ImportRow): Readable {
  const head = JSON.stringify({ data: importView(imp) })
  async function * chunks (): AsyncGenerator<string> {
    yield `${head.slice(0, -2)},"report":[`
    let first = true
    // Lines are numbered 0…total−1: one range of PAGE numbers per page.
    for (let after = -1; after < imp.total - 1; after += PAGE) {
      const page = await reportPage(q, imp.reqId, after, PAGE)
      if (page.length === 0) continue
      const text = page.map((l) => JSON.stringify({
        lineNumber: l.lineNumber,
        action: l.action,
        loginEmail: l.loginEmail,
        status: l.status ?? 'pending',
        ...(l.userId ? { userId: l.userId } : {}),
        ...(l.errorCode !== null ? { errorCode: l.errorCode, errorMsg: l.errorMsg } : {}),
        ...(l.line !== null ? { line: l.line } : {}),
      })).join(',')
      yield (first ? '' : ',') + text
      first = false
    }
    yield ']}}'
  }
  return Readable.from(chunks())
}
