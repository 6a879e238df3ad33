import { Readable } from 'node:stream'
import type { Queryable } from '../db/db.js'
import { reportPage, type ImportRow } from '../db/imports-repository.js'
import { listServices } from '../db/cloudpbx-repository.js'
import type { Profile } from './voice-plan.js'

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
    ...(imp.operation === 'revert' ? { operation: 'revert' as const, reverts: imp.reverts ?? null } : {}),
    revertedBy: imp.revertedBy ?? null,
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
 * rainbowvoice only (contract §3.4): `profiles` are the company's offers now (licences in use and
 * their number; no assignedBefore: the import does not keep the count at its start), the three
 * reports are the counts its chunks stored as they applied their lines. Other modes: nothing.
 */
export async function voiceReportView (q: Queryable, imp: ImportRow): Promise<object> {
  if (imp.mode !== 'rainbowvoice') return {}
  const c = imp.voiceCounts
  const profiles: Record<string, Profile> = {}
  for (const s of await listServices(q, imp.companyId)) profiles[s.name] = { name: s.name, valid: s.used <= s.licences, assignedAfter: s.used, max: s.licences }
  return {
    profiles,
    subscriberReport: { created: c?.subscribersCreated ?? 0, deleted: c?.subscribersDeleted ?? 0, renumbered: c?.subscribersRenumbered ?? 0 },
    sipDeviceReport: { attached: c?.devicesAttached ?? 0, detached: c?.devicesDetached ?? 0 },
    ddiReport: { attached: c?.ddisAttached ?? 0, detached: c?.ddisDetached ?? 0 },
  }
}

/**
 * The full report as a stream of JSON text, page by page in file order: a 250,000-line report is
 * never one string in memory.
 */
export function streamImportReport (q: Queryable, imp: ImportRow, extra: object = {}): Readable {
  const head = JSON.stringify({ data: { ...importView(imp), ...extra } })
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
