// The company the console acts on, chosen in the header's company picker: kept for this tab
// (sessionStorage, like the tokens) and passed as companyId on every call for company data. With
// none chosen the server acts on the caller's own company.
import { storedTokens } from './auth.ts'

const KEY = 'mp.company'

export interface Company { id: string, name: string, organizationId: string | null }

export function chosenCompany (): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined
}

export function chooseCompany (id: string | undefined): void {
  if (id) sessionStorage.setItem(KEY, id)
  else sessionStorage.removeItem(KEY)
}

/**
 * The signed-in administrator's own company, read from its access token's claims: only to preselect
 * it in the picker, the server checks the company of every call.
 */
export function ownCompany (): string | undefined {
  const part = storedTokens()?.accessToken.split('.')[1]
  if (!part) return undefined
  try {
    const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { user?: { companyId?: unknown } }
    return typeof claims.user?.companyId === 'string' ? claims.user.companyId : undefined
  } catch (e) {
    // Not a JWT we can read: the picker then starts on the first company of its list.
    console.warn('massprov: the access token\'s claims could not be read', e)
    return undefined
  }
}

/** `path` with the chosen company as its companyId, when one is chosen. */
export function scoped (path: string): string {
  const id = chosenCompany()
  if (!id) return path
  return `${path}${path.includes('?') ? '&' : '?'}companyId=${encodeURIComponent(id)}`
}
