import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listPbxs } from '../../src/db/pbx-repository.js'
import { checkCsv } from '../../src/provisioning/check.js'
import { PlanCodes } from '../../src/provisioning/codes.js'
import { dbKinds, openTestDb, recordingDb, type TestDb } from '../helpers/databases.js'
import { createWorld, type World } from '../helpers/fixtures.js'
import { addUser, holdNumber } from '../jobs/helpers/import-app.js'

/** users.role_rank of a company_admin (migrations/0005). */
const COMPANY_ADMIN_RANK = 1

// A check reads the company's live users (and the numbers they hold) whole, page by page, when the
// file names many of them, and looks up each batch's e-mails otherwise: the answer must not depend on it.
describe.each(dbKinds())('checkCsv: the company read whole or per batch, on %s', (kind) => {
  let tdb: TestDb
  let world: World
  const u = { ann: '', holder: '', other: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    const at = (who: string) => `${who}-${world.companyA}@example.com`
    u.ann = at('ann')
    u.holder = at('holder')
    u.other = at('other')
    await addUser(tdb.db, world.companyA, u.ann, { firstName: 'Ann' })
    const holder = await addUser(tdb.db, world.companyA, u.holder)
    await addUser(tdb.db, world.companyA, u.other)
    await holdNumber(tdb.db, holder, (await listPbxs(tdb.db, world.companyA))[0]!.pbxId, '2000')
  })
  afterAll(async () => {
    await tdb?.close()
  })

  /**
   * The check of `file`, and whether it read the company's users whole: the numbers they hold are
   * read only once that read is complete (it stops, and lookups take over, past its threshold).
   */
  const check = async (file: string) => {
    const { db, statements } = recordingDb(tdb.db)
    const answer = await checkCsv(db, { companyId: world.companyA, endpoint: 'import', body: Buffer.from(file), nostrict: false, caller: { id: world.adminA.id, rank: COMPANY_ADMIN_RANK }, maxDeletePercent: 100 })
    const { plan, errors, actions } = answer.toObject().data
    return { readWhole: statements.some((s) => s.includes('n.user_id IS NOT NULL')), plan, errors, actions }
  }

  it('plans the same file the same way both ways: changes, a delete that frees a number, another company\'s e-mail, a user already there', async () => {
    const file = [
      '__action__;loginEmail;firstName;jobTitle',
      `update;${u.ann};Anna;`,
      `delete;${u.holder};;`,
      `create;${world.userB.email};Bee;`,
      `create;new-${world.companyA}@example.com;New;`,
      `update;${world.plainUser.email};;Boss`,
      `create;${u.other};Other;`,
    ].join('\n')
    const whole = await check(file)
    // Enough users the file does not name that reading them all would cost more than looking up its lines.
    for (let i = 0; i < 40; i++) await addUser(tdb.db, world.companyA, `unnamed${i}-${world.companyA}@example.com`)
    const probed = await check(file)
    expect(whole.readWhole).toBe(true)
    expect(probed.readWhole).toBe(false)
    expect(probed.plan!.map((p) => p.errorCode ?? p.outcome)).toEqual(['update', 'delete', PlanCodes.userAlreadyExists, 'create', 'update', PlanCodes.userAlreadyExists])
    expect(probed.plan![0]!.changes).toEqual({ firstName: { from: 'Ann', to: 'Anna' } })
    expect(probed.plan![1]!.device).toMatchObject({ outcome: 'detach', detached: [expect.stringMatching(/\/2000$/)] })
    expect(probed).toEqual({ ...whole, readWhole: false })
  })
})
