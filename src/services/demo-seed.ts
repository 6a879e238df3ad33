import { randomBytes } from 'node:crypto'
import type { Db } from '../db/db.js'
import { countCompanies } from '../db/companies-repository.js'
import { createApplicationService } from './applications.js'
import { loadInventory } from './pbx-inventory.js'
import { createTenantService } from './tenants.js'

export interface DemoCredentials {
  companyId: string
  loginEmail: string
  password: string
  appId: string
  appSecret: string
  apiToken: string
  pbxId: string
}

export const DEMO_LOGIN = 'admin@demo.example.com'
export const DEMO_PBX = 'DEMO-PBX-0001'

/**
 * First start of an empty database: a demo company with a company_admin, an application and a
 * PBX with ten numbers, in one transaction. Returns undefined when the database already has a
 * company (the seed never runs twice).
 */
export async function seedDemo (db: Db, opts: { secretsKey: Buffer, xmppDomain: string }): Promise<DemoCredentials | undefined> {
  return db.exclusive('massprov:seed', () => db.transaction(async (tx) => {
    if (await countCompanies(tx) > 0) return undefined
    const tenants = createTenantService({ db, xmppDomain: opts.xmppDomain })
    const { companyId } = await tenants.createCompany({ name: 'Demo Company', organization: 'Demo Organization' }, tx)
    // Random, yet within the password policy (capital, digit, special character).
    const password = `Demo-${randomBytes(9).toString('base64url')}-7a!`
    await tenants.createAdmin({ companyId, email: DEMO_LOGIN, password, role: 'company_admin', firstName: 'Demo', lastName: 'Admin' }, tx)
    const app = await createApplicationService({ db: tx, secretsKey: opts.secretsKey }).create('Demo application')
    const numbers = Array.from({ length: 10 }, (_, i) => ({
      shortNumber: String(1000 + i),
      internalNumber: `+3390000${1000 + i}`,
      number: `+3312345${6780 + i}`,
    }))
    await loadInventory(tx, { companyId, pbxId: DEMO_PBX, numbers, name: 'Demo PBX' })
    return { companyId, loginEmail: DEMO_LOGIN, password, ...app, pbxId: DEMO_PBX }
  }))
}
