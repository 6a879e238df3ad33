import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listPbxs } from '../../../src/db/pbx-repository.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { addUser, buildImportApp, holdNumber, MP, numberOf, type ImportApp } from '../../jobs/helpers/import-app.js'

// Issue 15 item 4: where the seed's words and this server differed, end to end through the real import.

interface Entry { lineNumber: number, action: string, status: string, errorCode?: number, errorMsg?: string }
interface Details { status: string, counters: Record<string, number>, report: Entry[] }

describe.each(dbKinds())('the seed\'s words, end to end on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  let world: World
  let token = ''

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    world = await createWorld(tdb.db)
    ia = await buildImportApp(tdb.db)
    token = await login(ia.app, world.adminA.email, PASSWORD)
  })
  afterAll(async () => {
    await ia?.app.close()
    await tdb?.close()
  })

  async function run (body: string, path = '/users/imports'): Promise<Details> {
    const res = await ia.app.inject({ method: 'POST', url: `${MP}${path}`, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    await ia.queue!.drained()
    const { reqId } = res.json<{ data: { reqId: string } }>().data
    return (await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${reqId}/details`, headers: bearer(token) })).json<{ data: Details }>().data
  }

  it('an empty __action__ in a user file creates the user', async () => {
    const email = `empty-action-${newId()}@example.com`
    const d = await run(`__action__;loginEmail;firstName\n;${email};Ann\n`)
    expect(d.report).toMatchObject([{ lineNumber: 2, action: 'create', status: 'success' }])
    expect(await tdb.db.query('SELECT first_name AS "firstName" FROM users WHERE login_email = $1 AND deleted_at IS NULL', [email])).toEqual([{ firstName: 'Ann' }])
  })

  it('a device file moves a user to another extension with a detach then an attach of the same loginEmail', async () => {
    const pbxA = (await listPbxs(tdb.db, world.companyA))[0]!.pbxId
    const email = `mover-${newId()}@example.com`
    const id = await addUser(tdb.db, world.companyA, email)
    await holdNumber(tdb.db, null, pbxA, '2001')
    await holdNumber(tdb.db, id, pbxA, '2002')
    const d = await run(`__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number\ndetach;${email};;;;\nattach;${email};${pbxA};2001;;\n`)
    expect(d.report.map((e) => [e.lineNumber, e.action, e.status])).toEqual([[2, 'detach', 'success'], [3, 'attach', 'success']])
    expect((await numberOf(tdb.db, pbxA, '2001')).userId).toBe(id)
    expect((await numberOf(tdb.db, pbxA, '2002')).userId).toBeNull()
  })
})
