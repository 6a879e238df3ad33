import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listPbxs } from '../../src/db/pbx-repository.js'
import { checkCsv } from '../../src/provisioning/check.js'
import { newId } from '../../src/util/ids.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'

/**
 * checkCsv reads which users exist either from every live e-mail read once (few users on the
 * server) or by one lookup per line (many): both must plan the same.
 */
describe.each(dbKinds())('checkCsv on %s', (kind) => {
  let tdb: TestDb
  let world: World
  let pbxA: string

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    pbxA = (await listPbxs(tdb.db, world.companyA))[0]!.pbxId
  })
  afterAll(async () => {
    await tdb?.close()
  })

  it('plans the same whether the live e-mails are held or every line is looked up', async () => {
    const body = [
      '__action__;loginEmail;firstName;pbxId;pbxShortNumber',
      `upsert;fresh-${newId()}@example.com;New;${pbxA};2000`,
      `sync;${world.plainUser.email};Plain;;`,
      `upsert;${world.userB.email};Bee;;`,
      `delete;ghost-${newId()}@example.com;;;`,
      `detach;${world.adminA.email};;;`,
    ].join('\n')
    const run = async (liveEmailsHeld: number) => (await checkCsv(tdb.db, {
      companyId: world.companyA, endpoint: 'synchronize', body: Buffer.from(body), nostrict: false, liveEmailsHeld,
    })).toObject().data
    const held = await run(1_000_000)
    const probed = await run(0)
    expect(probed).toEqual(held)
    expect(held.plan.map((e) => e.errorCode ?? e.outcome)).toEqual(['create', 'update', 409600, 3101, 1010])
    expect(held.plan[1]).toMatchObject({ userId: world.plainUser.id, changes: { firstName: { to: 'Plain' } } })
  })
})
