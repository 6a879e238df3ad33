import { afterAll, beforeAll } from 'vitest'
import type { Db } from '../../src/db/db.js'
import { insertUser } from '../../src/db/users-repository.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { createApplicationService, type CreatedApplication } from '../../src/services/applications.js'
import { hashPassword } from '../../src/services/passwords.js'
import { loadInventory } from '../../src/services/pbx-inventory.js'
import { createTenantService } from '../../src/services/tenants.js'
import { newId } from '../../src/util/ids.js'
import { TEST_SECRETS_KEY } from './app.js'
import { openTestDb, type DbKind, type TestDb } from './databases.js'

export const PASSWORD = 'Passw0rd!x'

export interface World {
  companyA: string
  companyB: string
  /** In another organization than A and B. */
  companyC: string
  adminA: { id: string, email: string }
  adminB: { id: string, email: string }
  orgAdmin: { id: string, email: string }
  superadmin: { id: string, email: string }
  plainUser: { id: string, email: string }
  userB: { id: string, email: string }
  app: CreatedApplication
}

/**
 * Organization O1 holds companies A and B; O2 holds C. One admin of each kind, a user without
 * admin rights, a PBX per company and an application. Unique e-mails per call, so one database can
 * hold several worlds.
 */
export async function createWorld (db: Db): Promise<World> {
  const tag = newId().slice(-8)
  const tenants = createTenantService({ db, xmppDomain: 'localhost' })
  const o1 = `O1-${tag}`
  const { companyId: companyA } = await tenants.createCompany({ name: `A-${tag}`, organization: o1 })
  const { companyId: companyB } = await tenants.createCompany({ name: `B-${tag}`, organization: o1 })
  const { companyId: companyC } = await tenants.createCompany({ name: `C-${tag}`, organization: `O2-${tag}` })
  const admin = async (companyId: string, who: string, role: 'company_admin' | 'organization_admin' | 'superadmin') => {
    const email = `${who}-${tag}@example.com`
    const { userId } = await tenants.createAdmin({ companyId, email, password: PASSWORD, role })
    return { id: userId, email }
  }
  const plain = async (companyId: string, who: string) => {
    const email = `${who}-${tag}@example.com`
    const id = newId()
    await insertUser(db, { id, companyId, loginEmail: email, passwordHash: await hashPassword(PASSWORD), roles: ['user'], adminType: null, jidIm: `${id}@localhost` })
    return { id, email }
  }
  const world: World = {
    companyA,
    companyB,
    companyC,
    adminA: await admin(companyA, 'admin-a', 'company_admin'),
    adminB: await admin(companyB, 'admin-b', 'company_admin'),
    orgAdmin: await admin(companyA, 'org-admin', 'organization_admin'),
    superadmin: await admin(companyC, 'super', 'superadmin'),
    plainUser: await plain(companyA, 'user-a'),
    userB: await plain(companyB, 'user-b'),
    app: await createApplicationService({ db, secretsKey: deriveSecretsKey(TEST_SECRETS_KEY) }).create(`app-${tag}`),
  }
  const numbers = (base: number) => Array.from({ length: 3 }, (_, i) => ({ shortNumber: String(base + i), internalNumber: null, number: `+3312300${base + i}` }))
  await loadInventory(db, { companyId: companyA, pbxId: `PBX-A-${tag}`, numbers: numbers(2000) })
  await loadInventory(db, { companyId: companyB, pbxId: `PBX-B-${tag}`, numbers: numbers(3000) })
  return world
}

/** For the enclosing describe: a database of its own of this kind, with a world in it. */
export function useWorld (kind: DbKind): { tdb: TestDb, world: World } {
  const suite = {} as { tdb: TestDb, world: World }
  beforeAll(async () => {
    suite.tdb = await openTestDb(kind)
    suite.world = await createWorld(suite.tdb.db)
  })
  afterAll(async () => {
    await suite.tdb?.close()
  })
  return suite
}
