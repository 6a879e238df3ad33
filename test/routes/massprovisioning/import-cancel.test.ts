import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findImport } from '../../../src/db/imports-repository.js'
import { giveUpImport, runImport } from '../../../src/jobs/import-job.js'
import { newId } from '../../../src/util/ids.js'
import { bearer, login } from '../../helpers/app.js'
import { dbKinds } from '../../helpers/databases.js'
import { PASSWORD, useWorld } from '../../helpers/fixtures.js'
import { buildImportApp, MP, type ImportApp } from '../../jobs/helpers/import-app.js'

// POST /users/imports/:reqId/cancel (D16) and what a Failed or Cancelled import allows afterwards:
// its report is listed with its status and errorMsg, can be deleted, and the same file imported again (D6).

const silent = pino({ level: 'silent' })

interface View { reqId: string, status: string, errorMsg?: string, endTime?: string, counters: Record<string, number>, report?: Array<{ lineNumber: number, status: string, errorCode?: number }> }

describe.each(dbKinds())('cancel and the end states through the routes on %s', (kind) => {
  const suite = useWorld(kind)
  /** No queue: imports stay Pending until a test runs or ends them. */
  let ia: ImportApp
  const tokens = { adminA: '', adminB: '', plain: '' }

  beforeAll(async () => {
    ia = await buildImportApp(suite.tdb.db, { queue: false })
    tokens.adminA = await login(ia.app, suite.world.adminA.email, PASSWORD)
    tokens.adminB = await login(ia.app, suite.world.adminB.email, PASSWORD)
    tokens.plain = await login(ia.app, suite.world.plainUser.email, PASSWORD)
  })
  afterAll(async () => {
    await ia?.app.close()
  })

  const fileOf = (n: number) => {
    const t = newId().slice(-10)
    return ['__action__;loginEmail;password;firstName', ...Array.from({ length: n }, (_, i) => `create;cancel-${i}-${t}@example.com;Pw${i}!${t}Zz;C${i}`)].join('\n') + '\n'
  }
  const post = async (body: string, token = tokens.adminA) => {
    const res = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: body })
    return res
  }
  const accepted = async (body: string, token = tokens.adminA) => {
    const res = await post(body, token)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ data: { reqId: string } }>().data.reqId
  }
  const cancel = (reqId: string, token = tokens.adminA) =>
    ia.app.inject({ method: 'POST', url: `${MP}/users/imports/${reqId}/cancel`, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: '{}' })
  const details = async (reqId: string) => (await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${reqId}/details`, headers: bearer(tokens.adminA) })).json<{ data: View }>().data
  const list = async () => (await ia.app.inject({ method: 'GET', url: `${MP}/users/imports`, headers: bearer(tokens.adminA) })).json<{ data: View[] }>().data
  const del = (reqId: string) => ia.app.inject({ method: 'DELETE', url: `${MP}/users/imports/${reqId}/details`, headers: bearer(tokens.adminA) })

  it('a Pending import with no worker running: cancelled at once, every line 3197; listed with status and errorMsg; its report deleted and the file imported again', async () => {
    const body = fileOf(3)
    const reqId = await accepted(body)
    const res = await cancel(reqId)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<{ data: View }>().data).toMatchObject({ reqId, status: 'Cancelled', errorMsg: expect.stringMatching(/^cancelled by /), counters: { succeeded: 0, failed: 3, warnings: 0, total: 3 } })

    const d = await details(reqId)
    expect(d).toMatchObject({ status: 'Cancelled', errorMsg: expect.stringMatching(/cancelled/), endTime: expect.any(String) })
    expect(d.report!.map((l) => [l.status, l.errorCode])).toEqual([['failed', 3197], ['failed', 3197], ['failed', 3197]])
    expect((await list()).find((i) => i.reqId === reqId)).toMatchObject({ status: 'Cancelled', errorMsg: d.errorMsg })

    // D6 and D2: the report of a Cancelled import can go, and then the same file is a new import.
    const deleted = await del(reqId)
    expect(deleted.statusCode, deleted.body).toBe(200)
    expect(await accepted(body)).toBe(reqId)
    expect((await findImport(suite.tdb.db, reqId))!.status).toBe('Pending')
  })

  it('a Failed import is listed with its errorMsg, its report can be deleted, and the same file imported again', async () => {
    const body = fileOf(2)
    const reqId = await accepted(body)
    await giveUpImport({ db: suite.tdb.db, logger: silent }, reqId, 10, new Error('the database went away'))
    const listed = (await list()).find((i) => i.reqId === reqId)
    expect(listed).toMatchObject({ status: 'Failed', errorMsg: expect.stringMatching(/failed 10 times/), counters: { failed: 2, total: 2 } })
    expect(listed!.errorMsg).not.toContain('database went away')
    expect((await post(body)).statusCode).toBe(409)
    expect((await del(reqId)).statusCode).toBe(200)
    expect(await accepted(body)).toBe(reqId)
    // and the new one is not blocked by anything: it runs to its end
    await runImport({ db: suite.tdb.db, logger: silent, xmppDomain: 'localhost', chunkSize: 10 }, reqId)
    expect((await details(reqId))).toMatchObject({ status: 'Terminated', counters: { succeeded: 2, failed: 0 } })
  })

  it('another company\'s reqId, an unknown one or a plain user: refused, and nothing changes', async () => {
    const reqId = await accepted(fileOf(2), tokens.adminB)
    const foreign = await cancel(reqId)
    expect(foreign.statusCode).toBe(404)
    expect(foreign.json()).toMatchObject({ errorCode: 404, errorMsg: 'Not Found', errorDetailsCode: 404000 })
    expect(foreign.body).not.toContain(suite.world.companyB)
    expect((await cancel('f'.repeat(64))).statusCode).toBe(404)
    expect((await cancel('not-a-req-id')).statusCode).toBe(404)
    expect((await cancel(reqId, tokens.plain)).statusCode).toBe(403)
    const still = (await findImport(suite.tdb.db, reqId))!
    expect(still).toMatchObject({ status: 'Pending', processed: 0, failed: 0, errorMsg: null, endTime: null })
    // Its own company's admin may.
    expect((await cancel(reqId, tokens.adminB)).statusCode).toBe(200)
  })

  it('a finished import: 409 with a message naming its state; a second cancel too', async () => {
    const done = await accepted(fileOf(1))
    await runImport({ db: suite.tdb.db, logger: silent, xmppDomain: 'localhost', chunkSize: 10 }, done)
    const res = await cancel(done)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ errorCode: 409, errorMsg: 'Conflict', errorDetailsCode: 409000, errorDetails: `Import ${done} has already ended (Terminated); there is nothing to cancel` })
    expect((await findImport(suite.tdb.db, done))!).toMatchObject({ status: 'Terminated', succeeded: 1, failed: 0 })

    const twice = await accepted(fileOf(1))
    expect((await cancel(twice)).statusCode).toBe(200)
    const again = await cancel(twice)
    expect(again.statusCode).toBe(409)
    expect(again.json<{ errorDetails: string }>().errorDetails).toMatch(/already ended \(Cancelled\)/)
  })
})
