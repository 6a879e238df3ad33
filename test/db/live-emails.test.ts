import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listLiveLoginEmails } from '../../src/db/users-repository.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { createWorld } from '../helpers/fixtures.js'
import { addUser } from '../jobs/helpers/import-app.js'

// The check holds every live login e-mail when there are few enough (LIVE_EMAILS_HELD): read in keyset pages.
describe.each(dbKinds())('listLiveLoginEmails on %s', (kind) => {
  let tdb: TestDb
  let all: string[] = []

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    const world = await createWorld(tdb.db)
    for (let i = 0; i < 7; i++) await addUser(tdb.db, world.companyA, `paged${i}-${world.companyA}@example.com`)
    const deleted = `deleted-${world.companyA}@example.com`
    const id = await addUser(tdb.db, world.companyA, deleted)
    await tdb.db.query('UPDATE users SET deleted_at = now() WHERE id = $1', [id])
    all = (await tdb.db.query<{ e: string }>('SELECT login_email AS e FROM users WHERE deleted_at IS NULL')).map((r) => r.e).sort()
  })
  afterAll(async () => {
    await tdb?.close()
  })

  it('reads every live e-mail once, over as many pages as it takes, and none of a deleted user', async () => {
    for (const page of [1, 2, 3, all.length, all.length + 1, 20_000]) {
      const emails = await listLiveLoginEmails(tdb.db, all.length, page)
      expect(emails?.slice().sort(), `page ${page}`).toEqual(all)
    }
    expect(all.some((e) => e.startsWith('deleted-'))).toBe(false)
  })

  it('is undefined when there are more than the limit, whatever the page', async () => {
    for (const page of [1, 3, 20_000]) expect(await listLiveLoginEmails(tdb.db, all.length - 1, page)).toBeUndefined()
  })
})
