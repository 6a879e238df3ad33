import type { Queryable } from '../db/db.js'
import { findCompany, type CompanyFilter } from '../db/companies-repository.js'
import { findLiveUserById, type UserRow } from '../db/users-repository.js'
import { Errors } from '../errors.js'
import { ID_PATTERN } from '../util/ids.js'

type Caller = Pick<UserRow, 'roles' | 'adminType' | 'companyId' | 'organizationId'>

/** Whom the lines of a file act for (D12), from the signed-in user of the request. */
export function callerOf (u: Pick<UserRow, 'id' | 'roleRank'>): { id: string, rank: number } {
  return { id: u.id, rank: u.roleRank }
}

/**
 * D12, in one place: superadmin sees every company, organization_admin the companies of its
 * organization, company_admin its own. Every route that takes a companyId or an entity id goes
 * through here.
 */
export function createCompanyScope (db: Queryable) {
  function isSuperadmin (u: Caller): boolean {
    return u.roles.includes('superadmin') || u.adminType === 'superadmin'
  }

  function isAdmin (u: Caller): boolean {
    return isSuperadmin(u) || (u.roles.includes('admin') && (u.adminType === 'organization_admin' || u.adminType === 'company_admin'))
  }

  async function canSee (u: Caller, companyId: string): Promise<boolean> {
    if (companyId === u.companyId) return isAdmin(u)
    if (isSuperadmin(u)) return true
    if (u.adminType !== 'organization_admin' || !u.organizationId) return false
    const company = await findCompany(db, companyId)
    return company?.organizationId === u.organizationId
  }

  /** The companies the caller administers, as canSee decides them one by one; 403 for a non-administrator. */
  function administered (u: Caller): CompanyFilter {
    if (!isAdmin(u)) throw Errors.forbiddenRole()
    if (isSuperadmin(u)) return { all: true }
    return { all: false, companyId: u.companyId, organizationId: u.adminType === 'organization_admin' ? u.organizationId : null }
  }

  return {
    isAdmin,
    canSee,
    administered,

    /**
     * The company a request acts on: the requested one if the caller may administer it, else 403;
     * the caller's own when none is given. A company that does not exist is a 404 for a superadmin
     * and a 403 for the others, who must not learn which ids exist.
     */
    async resolve (u: Caller, requested: string | undefined): Promise<string> {
      if (requested === undefined || requested === '') {
        if (!isAdmin(u)) throw Errors.forbiddenRole()
        return u.companyId
      }
      if (!ID_PATTERN.test(requested)) throw Errors.badParameter({ param: 'companyId', msg: 'must be a 24-character hexadecimal id', value: requested })
      if (!(await canSee(u, requested))) throw Errors.forbiddenCompany(requested)
      if (isSuperadmin(u) && requested !== u.companyId && !(await findCompany(db, requested))) throw Errors.notFound(`Company ${requested}`)
      return requested
    },

    /**
     * The requester of an import as it is now, for the lines still to apply (D12 is checked again at
     * apply time): demoted, deactivated, deleted or moved out of the company's scope since the file
     * was accepted, it has no rights left (rank -1) and every remaining line fails.
     */
    async requesterNow (requesterId: string, companyId: string): Promise<{ id: string, rank: number }> {
      const u = await findLiveUserById(db, requesterId)
      if (!u?.isActive || !(await canSee(u, companyId))) return { id: requesterId, rank: -1 }
      return callerOf(u)
    },

    /** For an entity found by its own id: invisible entities are reported as missing, never as forbidden (D7). */
    async assertVisible (u: Caller, entityCompanyId: string, what: string): Promise<void> {
      if (!(await canSee(u, entityCompanyId))) throw Errors.notFound(what)
    },
  }
}

export type CompanyScope = ReturnType<typeof createCompanyScope>
