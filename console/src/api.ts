import { refresh, storedTokens } from './auth.ts'
import { scoped } from './company.ts'
import type { ImportRow } from './revert.ts'
import type { ReportLine } from './csv.ts'

export const MP = '/api/rainbow/massprovisioning/v1.0'
export const ADMIN = '/api/rainbow/admin/v1.0'

/** An error answer in the Rainbow envelope. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: number | undefined, message: string) {
    super(message)
  }
}

let onSignedOut: () => void = () => {}
export function whenSignedOut (f: () => void): void { onSignedOut = f }

async function bearer (): Promise<string | undefined> {
  let t = storedTokens()
  if (t && t.expiresAt - Date.now() < 30_000) t = await refresh()
  return t?.accessToken
}

/** A call with the access token; one refresh and retry on a 401, then the sign-in page. */
export async function call (path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await bearer()
    if (!token) break
    const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } })
    if (res.status !== 401) {
      if (!res.ok) {
        const body = await res.json().catch(() => ({})) as { errorDetails?: unknown, errorMsg?: string, errorDetailsCode?: number }
        const details = typeof body.errorDetails === 'string' ? body.errorDetails : JSON.stringify(body.errorDetails ?? body.errorMsg ?? res.statusText)
        throw new ApiError(res.status, body.errorDetailsCode, details)
      }
      return res
    }
    if (attempt === 0 && !(await refresh())) break
  }
  onSignedOut()
  throw new ApiError(401, undefined, 'Your session has ended: sign in again.')
}

export async function json<T> (path: string, init?: RequestInit): Promise<T> {
  return await (await call(path, init)).json() as T
}

export type Mode = 'user' | 'device' | 'useranddevice' | 'rainbowvoice'
export const MODES: Mode[] = ['user', 'device', 'useranddevice', 'rainbowvoice']

/** Where a mode's files are checked and imported. */
export function importPath (mode: Mode): string {
  if (mode === 'useranddevice') return `${MP}/users/imports/synchronize`
  if (mode === 'rainbowvoice') return `${MP}/users/imports/rainbowvoice`
  return `${MP}/users/imports`
}

export interface CheckError { lineNumber: number, column?: string, code: number, message: string }
export interface PlanLine {
  lineNumber: number
  action: string
  loginEmail: string
  outcome: string
  status: string
  errorCode?: number
  errorMsg?: string
  set?: string[]
  changes?: Record<string, { from: unknown, to: unknown }>
  device?: { outcome: string, pbxId?: string, shortNumber?: string, from?: unknown }
}
export interface Safeguard { deletions: number, companyUsers: number, maxDeletePercent: number, confirmationRequired: boolean }
export interface CheckAnswer {
  reqId?: string
  mode: string
  operation?: string
  actions: Record<string, number>
  errors: CheckError[]
  plan?: PlanLine[]
  deletionSafeguard?: Safeguard
}
export type ImportView = ImportRow & { report?: ReportLine[] }

export const details = (reqId: string, format: 'small' | 'full') =>
  json<{ data: ImportView }>(scoped(`${MP}/users/imports/${encodeURIComponent(reqId)}/details?format=${format}`)).then((r) => r.data)

export function csvPost (path: string, body: string, query: Record<string, string | undefined>) {
  const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''))
  const qs = q.toString()
  return json<{ data: never }>(scoped(`${path}${qs ? `?${qs}` : ''}`), { method: 'POST', headers: { 'content-type': 'text/csv' }, body })
}
