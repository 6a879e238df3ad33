import { parseCsv } from '../csv/parse.js'
import type { EndpointKind, LineError, Mode } from '../csv/types.js'
import type { Db } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import { enqueueCommandEnded } from '../db/outbox-repository.js'
import { planRows, type PlanEntry } from './plan.js'
import { requestId } from './request-id.js'
import { loadSnapshot } from './snapshot.js'

export interface CheckRequest {
  companyId: string
  endpoint: Exclude<EndpointKind, 'rainbowvoice'>
  body: Uint8Array
  delimiter?: string | undefined
  comment?: string | undefined
  nostrict: boolean
  /** synchronize/check from a connector: the report is stored under it and the command ends (D14). */
  command?: { commandId: string, requesterId: string, requesterJid: string } | undefined
}

export interface CheckError { lineNumber: number, column?: string, code: number, message: string }

export interface CheckSummary {
  reqId: string
  mode: Mode
  actions: Record<string, number>
  columns: number
  delimiter: string
  profiles: Record<string, never>
  /** Beyond the portal: every line error, validation and planning alike, in line order. */
  errors: CheckError[]
  /** Beyond the portal: what each line would do. */
  plan: Array<Omit<PlanEntry, 'ops'>>
}

/** §3.1 counter names differ from the CSV actions (READ in the SDK): create → add, delete → remove in user mode. */
function counterName (mode: Mode, action: string): string {
  if (mode === 'user' && action === 'create') return 'add'
  if (mode === 'user' && action === 'delete') return 'remove'
  return action
}

const ZERO_COUNTERS: Record<Mode, string[]> = {
  user: ['add', 'update', 'remove'],
  device: ['attach', 'force_attach', 'detach'],
  useranddevice: ['sync', 'upsert', 'delete', 'detach'],
  rainbowvoice: ['upsert', 'delete', 'detach'],
}

/**
 * A real dry run: parses and validates the file, plans every line against the current database
 * exactly as the import would, and writes nothing but the command's report (when a commandId is given).
 */
export async function checkCsv (db: Db, req: CheckRequest): Promise<CheckSummary> {
  const parsed = await parseCsv(req.body, { endpoint: req.endpoint, delimiter: req.delimiter, comment: req.comment })
  const snapshot = await loadSnapshot(db, req.companyId, parsed.rows)
  const entries = planRows(parsed.rows, parsed.errors, snapshot, { companyId: req.companyId, nostrict: req.nostrict, mode: parsed.mode })

  const actions = Object.fromEntries(ZERO_COUNTERS[parsed.mode].map((k) => [k, 0]))
  const plan: CheckSummary['plan'] = []
  const planErrors: LineError[] = []
  for (const { ops: _ops, ...entry } of entries) {
    plan.push(entry)
    if (entry.status !== 'failed') {
      const key = counterName(parsed.mode, entry.action)
      actions[key] = (actions[key] ?? 0) + 1
    }
  }
  const validated = new Set(parsed.errors.map((e) => e.lineNumber))
  for (const e of entries) {
    if (e.status === 'failed' && !validated.has(e.lineNumber)) planErrors.push({ lineNumber: e.lineNumber, code: e.errorCode as LineError['code'], message: e.errorMsg ?? '' })
  }
  const errors = [...parsed.errors, ...planErrors].sort((a, b) => a.lineNumber - b.lineNumber)

  const summary: CheckSummary = {
    reqId: requestId(req.companyId, req.endpoint === 'synchronize' ? 'synchronize-check' : 'check', req.body),
    mode: parsed.mode,
    actions,
    columns: parsed.columns,
    delimiter: parsed.delimiter,
    profiles: {},
    errors,
    plan,
  }
  if (req.command) await storeCommandCheck(db, req.companyId, req.command, errors.length === 0 ? 'success' : 'failure', summary)
  return summary
}

/** The report and its command_ended notification commit together, so the connector hears once (D14). */
export async function storeCommandCheck (db: Db, companyId: string, command: NonNullable<CheckRequest['command']>, status: 'success' | 'failure', report: object): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertCommandReport(tx, {
      companyId, kind: 'check', commandId: command.commandId, status, report: report as Record<string, unknown>, reqId: null, requesterId: command.requesterId,
    })
    await enqueueCommandEnded(tx, command.requesterJid, { commandId: command.commandId, companyId, kind: 'check' })
  })
}
