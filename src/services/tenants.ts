/**
 * src/services: domain operations that know nothing of HTTP: companies and admins (this file),
 * application tokens and their credentials, company scope, passwords (argon2id on hash-pool.ts),
 * login backoff, the PBX inventory, the demo seed and the admin user view. They import db, csv,
 * util and errors; routes, plugins, jobs, app.ts and the entries import them.
 */
import type { Db, Queryable } from '../db/db.js'
import { isUniqueViolation } from '../db/db.js'
import { findCompany, findOrganizationByName, insertCompany, insertOrganization } from '../db/companies-repository.js'
import { insertUser } from '../db/users-repository.js'
import { newId } from '../util/ids.js'
import { hashPassword } from './passwords.js'
import { passwordProblem } from '../csv/formats.js'

export const ADMIN_ROLES = ['superadmin', 'organization_admin', 'company_admin'] as const
export type AdminRole = typeof ADMIN_ROLES[number]

export class TenantError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** Companies, their organization and their administrators: what the admin CLI and the demo seed create. */
export const createTenantService = ({ db, xmppDomain }: { db: Db, xmppDomain: string }) => ({
  async createCompany (input: { name: string, organization?: string | undefined }, q: Queryable = db): Promise<{ companyId: string, organizationId: string | null }> {
    const name = input.name.trim()
    if (!name) throw new TenantError('company name must not be empty')
    let organizationId: string | null = null
    if (input.organization?.trim()) {
      const org = input.organization.trim()
      organizationId = (await findOrganizationByName(q, org))?.id ?? null
      if (!organizationId) {
        organizationId = newId()
        await insertOrganization(q, { id: organizationId, name: org })
      }
    }
    const companyId = newId()
    await insertCompany(q, { id: companyId, name, organizationId })
    return { companyId, organizationId }
  },

  async createAdmin (input: { companyId: string, email: string, password: string, role: AdminRole, jid?: string | undefined, firstName?: string, lastName?: string }, q: Queryable = db): Promise<{ userId: string, jid: string }> {
    const email = input.email.trim().toLowerCase()
    if (!EMAIL.test(email)) throw new TenantError(`invalid e-mail address: ${input.email}`)
    if (!ADMIN_ROLES.includes(input.role)) throw new TenantError(`role must be one of ${ADMIN_ROLES.join(', ')}`)
    const problem = passwordProblem(input.password)
    if (problem) throw new TenantError(`password ${problem}`)
    const company = await findCompany(q, input.companyId)
    if (!company) throw new TenantError(`company ${input.companyId} does not exist`)
    if (input.role === 'organization_admin' && !company.organizationId) {
      throw new TenantError(`company ${input.companyId} belongs to no organization; an organization_admin needs one`)
    }
    const userId = newId()
    const jid = input.jid?.trim() || `${userId}@${xmppDomain}`
    try {
      await insertUser(q, {
        id: userId,
        companyId: company.id,
        loginEmail: email,
        passwordHash: await hashPassword(input.password),
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
        roles: input.role === 'superadmin' ? ['user', 'admin', 'superadmin'] : ['user', 'admin'],
        adminType: input.role,
        jidIm: jid,
        isInitialized: true,
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new TenantError(`a user with login ${email} or JID ${jid} already exists`)
      throw err
    }
    return { userId, jid }
  },
})

export type TenantService = ReturnType<typeof createTenantService>
