import { readFile } from 'node:fs/promises'
import { loadSession, saveSession } from './config-store.js'
import { ClientError, UsageError } from './errors.js'
import { AUTH, createHttp, MP, type Http } from './http.js'
import type { Output } from './output.js'
import { readPassword } from './password.js'
import { reportCsvHeader, reportCsvLine, type ReportLine } from './report-csv.js'

/** What a command needs from its process; main.ts fills it, tests may too. */
export interface Context {
  out: Output
  configDir: string
  env: { MASSPROV_SERVER?: string, MASSPROV_PASSWORD?: string }
  stdin: NodeJS.ReadStream
  stderr: NodeJS.WritableStream
  fetch?: typeof fetch
  sleep: (ms: number) => Promise<void>
}

export type Values = Record<string, string | boolean | undefined>

/** Exit codes: every line succeeded, some lines failed (or the import ended Failed or Cancelled). */
export const OK = 0
export const SOME_FAILED = 2

interface ImportView {
  reqId: string
  status: string
  mode?: string
  label?: string
  errorMsg?: string
  counters: { succeeded: number, failed: number, warnings: number, total: number, processed?: number }
}

interface LineError { lineNumber: number, column?: string, code: number | string, message: string }
interface PlanLine { lineNumber: number, action: string, loginEmail: string, outcome: string, status: string, errorCode?: number, errorMsg?: string }
interface DeletionSafeguard { deletions: number, companyUsers: number, maxDeletePercent: number, confirmationRequired: boolean }
interface CheckAnswer { reqId?: string, mode: string, actions?: Record<string, number>, errors: LineError[], plan?: PlanLine[], deletionSafeguard?: DeletionSafeguard, reverts?: string }

const MODES = ['user', 'device', 'useranddevice'] as const

function sessionHttp (ctx: Context): Http {
  const s = loadSession(ctx.configDir)
  return createHttp(s.server, s.token, ctx.fetch)
}

async function readCsv (file: string): Promise<Uint8Array> {
  try {
    return await readFile(file)
  } catch (err) {
    throw new ClientError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function modeOf (v: Values): (typeof MODES)[number] | undefined {
  const mode = v.mode as string | undefined
  if (mode === undefined) return undefined
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`)
  return mode as (typeof MODES)[number]
}

const csvRequest = (path: string, body: Uint8Array, query: Record<string, string | undefined>) =>
  ({ method: 'POST' as const, path, query, body, headers: { 'content-type': 'text/csv' } })

export async function login (ctx: Context, v: Values): Promise<number> {
  const server = (v.server as string | undefined) || ctx.env.MASSPROV_SERVER
  if (!server) throw new UsageError('--server URL (or MASSPROV_SERVER) is required')
  if (!/^https?:\/\/[^/]/.test(server) || !URL.canParse(server)) throw new UsageError(`--server must be an http(s) URL, not ${server}`)
  const email = v.email as string | undefined
  if (!email) throw new UsageError('--email is required')
  const password = await readPassword(ctx.env.MASSPROV_PASSWORD, ctx.stdin, ctx.stderr)
  const basic = Buffer.from(`${email}:${password}`).toString('base64')
  const answer = await createHttp(server, undefined, ctx.fetch)
    .json<{ token?: unknown, loggedInUser?: { id?: string } }>({ path: `${AUTH}/login`, headers: { authorization: `Basic ${basic}` } })
  if (typeof answer.token !== 'string') throw new ClientError('the login answer holds no token')
  const file = saveSession(ctx.configDir, { server, email, token: answer.token, savedAt: new Date().toISOString() })
  ctx.out.event({ type: 'login', server, email, userId: answer.loggedInUser?.id, configFile: file }, `Logged in to ${server} as ${email} (session in ${file})`)
  return OK
}

export async function check (ctx: Context, v: Values, [file]: string[]): Promise<number> {
  const mode = modeOf(v)
  const http = sessionHttp(ctx)
  const path = `${MP}/users/imports${mode === 'useranddevice' ? '/synchronize' : ''}/check`
  const { data } = await http.json<{ data: CheckAnswer }>(csvRequest(path, await readCsv(file!), { delimiter: v.delimiter as string | undefined, companyId: v.company as string | undefined }))
  return showCheck(ctx.out, data, `${data.mode} file`)
}

/** A check's errors and plan, for a file or a revert; SOME_FAILED when a line would fail. */
function showCheck (out: Output, data: CheckAnswer, what: string): number {
  for (const e of data.errors) out.event({ type: 'error', ...e }, `line ${e.lineNumber}${e.column ? ` ${e.column}` : ''}: ${e.message} (${e.code})`)
  const withError = new Set(data.errors.map((e) => e.lineNumber))
  // Lines that parse but would fail when applied (an update of an unknown user): the plan says so.
  const planFailed = (data.plan ?? []).filter((l) => l.status === 'failed' && !withError.has(l.lineNumber))
  for (const l of planFailed) out.event({ type: 'failed', lineNumber: l.lineNumber, action: l.action, loginEmail: l.loginEmail, errorCode: l.errorCode, errorMsg: l.errorMsg }, `line ${l.lineNumber} ${l.action} ${l.loginEmail}: ${l.errorMsg ?? 'would fail'} (${l.errorCode ?? ''})`)
  const outcomes: Record<string, number> = {}
  for (const l of data.plan ?? []) outcomes[l.outcome] = (outcomes[l.outcome] ?? 0) + 1
  const failing = withError.size + planFailed.length
  const guard = data.deletionSafeguard
  const confirm = guard?.confirmationRequired === true
    ? `; it deletes ${guard.deletions} of the company's ${guard.companyUsers} users (over ${guard.maxDeletePercent} %): import it with --confirm-deletes ${guard.deletions}`
    : ''
  out.event({ type: 'check', reqId: data.reqId, mode: data.mode, ...(data.reverts ? { reverts: data.reverts } : {}), lines: data.plan?.length, errors: data.errors.length, failedLines: failing, actions: data.actions, outcomes, deletionSafeguard: guard },
    `${what}: ${data.errors.length} error(s), ${failing} failing line(s); plan ${JSON.stringify(outcomes)}${confirm}`)
  return failing > 0 ? SOME_FAILED : OK
}

/** 0 when every line succeeded (a Pending import has no failure yet), 2 when some failed or it ended Failed or Cancelled. */
export function exitOf (view: ImportView): number {
  if (view.status === 'Failed' || view.status === 'Cancelled') return SOME_FAILED
  return view.counters.failed > 0 ? SOME_FAILED : OK
}

function showStatus (out: Output, view: ImportView): void {
  const c = view.counters
  out.event({ type: 'status', ...view },
    `${view.reqId} ${view.status}: ${c.succeeded} succeeded, ${c.failed} failed, ${c.warnings} warning(s) of ${c.total}${view.errorMsg ? ` (${view.errorMsg})` : ''}`)
}

const details = (http: Http, reqId: string, format: 'small' | 'full') =>
  http.json<{ data: ImportView & { report?: ReportLine[] } }>({ path: `${MP}/users/imports/${encodeURIComponent(reqId)}/details`, query: { format } })

function intervalOf (v: Values): number {
  const interval = v.interval === undefined ? 1 : Number(v.interval)
  if (!Number.isFinite(interval) || interval < 0.05 || interval > 3600) throw new UsageError('--interval must be a number of seconds between 0.05 and 3600')
  return interval
}

export async function importFile (ctx: Context, v: Values, [file]: string[]): Promise<number> {
  const mode = modeOf(v)
  const interval = intervalOf(v)
  const http = sessionHttp(ctx)
  const path = `${MP}/users/imports${mode === 'useranddevice' ? '/synchronize' : ''}`
  const confirmDeletes = v['confirm-deletes'] as string | undefined
  if (confirmDeletes !== undefined && !/^\d{1,7}$/.test(confirmDeletes)) throw new UsageError('--confirm-deletes must be the number of deletions the file makes (digits only), as a check or the refusal states it')
  const query = { label: v.label as string | undefined, delimiter: v.delimiter as string | undefined, companyId: v.company as string | undefined, confirmDeletes }
  const { data } = await http.json<{ data: { reqId: string, status?: string, mode?: string } & Record<string, unknown> }>(csvRequest(path, await readCsv(file!), query))
  ctx.out.event({ type: 'import', ...data }, `Import ${data.reqId} accepted (${data.mode ?? ''} ${data.status ?? ''})`)
  return v.wait === true ? follow(ctx, http, data.reqId, interval) : OK
}

/**
 * Issue 18: `--check` shows the revert's dry run (last line first, conflicts as failing lines);
 * otherwise the revert is asked for, and followed to its end with --wait, as an import is.
 */
export async function revert (ctx: Context, v: Values, [reqId]: string[]): Promise<number> {
  const interval = intervalOf(v)
  const http = sessionHttp(ctx)
  const path = `${MP}/users/imports/${encodeURIComponent(reqId!)}/revert`
  const query = { companyId: v.company as string | undefined }
  if (v.check === true) {
    const { data } = await http.json<{ data: CheckAnswer }>({ method: 'POST', path: `${path}/check`, query })
    return showCheck(ctx.out, data, `revert of ${reqId!}`)
  }
  const { data } = await http.json<{ data: { reqId: string, status?: string, reverts?: string } & Record<string, unknown> }>({ method: 'POST', path, query: { ...query, label: v.label as string | undefined } })
  ctx.out.event({ type: 'revert', ...data }, `Revert ${data.reqId} of ${reqId!} accepted (${data.status ?? ''})`)
  return v.wait === true ? follow(ctx, http, data.reqId, interval) : OK
}

/** Polls an import (or a revert) until it has ended, showing progress; its exit code. */
async function follow (ctx: Context, http: Http, reqId: string, interval: number): Promise<number> {
  let view = (await details(http, reqId, 'small')).data
  const polled = view.status === 'Pending'
  while (view.status === 'Pending') {
    ctx.out.progress(view.counters.processed ?? 0, view.counters.total, view.status)
    await ctx.sleep(interval * 1000)
    view = (await details(http, reqId, 'small')).data
  }
  if (polled) ctx.out.progress(view.counters.total, view.counters.total, view.status)
  ctx.out.endProgress()
  showStatus(ctx.out, view)
  return exitOf(view)
}

export async function status (ctx: Context, _v: Values, [reqId]: string[]): Promise<number> {
  const { data } = await details(sessionHttp(ctx), reqId!, 'small')
  showStatus(ctx.out, data)
  return exitOf(data)
}

export async function report (ctx: Context, v: Values, [reqId]: string[]): Promise<number> {
  const { data } = await details(sessionHttp(ctx), reqId!, 'full')
  const { report: lines = [], ...view } = data
  const shown = v.failed === true ? lines.filter((l) => l.status === 'failed') : lines
  if (v.csv === true) {
    ctx.out.raw(`${[reportCsvHeader(), ...shown.map(reportCsvLine)].join('\n')}\n`)
  } else {
    for (const l of shown) ctx.out.event({ type: 'line', ...l }, `line ${l.lineNumber} ${l.action} ${l.loginEmail}: ${l.status}${l.errorMsg ? ` ${l.errorMsg} (${l.errorCode})` : ''}`)
    showStatus(ctx.out, view)
  }
  return exitOf(view)
}

export async function cancel (ctx: Context, _v: Values, [reqId]: string[]): Promise<number> {
  const { data } = await sessionHttp(ctx).json<{ data: ImportView }>({ method: 'POST', path: `${MP}/users/imports/${encodeURIComponent(reqId!)}/cancel` })
  showStatus(ctx.out, data)
  return OK
}

export async function template (ctx: Context, _v: Values, [mode]: string[]): Promise<number> {
  ctx.out.raw(await sessionHttp(ctx).text({ path: `${MP}/users/template`, query: { mode }, headers: { accept: 'text/csv' } }))
  return OK
}
