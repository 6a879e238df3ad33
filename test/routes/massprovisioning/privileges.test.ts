import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pino from 'pino'
import { insertUser } from '../../../src/db/users-repository.js'
import { runImport } from '../../../src/jobs/import-job.js'
import { hashPassword, verifyPassword } from '../../../src/services/passwords.js'
import { loadInventory } from '../../../src/services/pbx-inventory.js'
import { loadCloudPbx } from '../../../src/services/cloudpbx-inventory.js'
import { newId } from '../../../src/util/ids.js'
import { basic, bearer, login } from '../../helpers/app.js'
import { dbKinds, openTestDb, type TestDb } from '../../helpers/databases.js'
import { createWorld, PASSWORD, type World } from '../../helpers/fixtures.js'
import { report } from '../../helpers/reliability.js'
import { buildImportApp, holdNumber, MP, type ImportApp } from '../../jobs/helpers/import-app.js'

// D12, issue 12 item 1: a CSV line may create, change or delete only users whose roles the caller could
// grant itself, in the check (plan) and in the import (apply, checked again at apply time). Every action
// against every target rank, for each kind of administrator.

const CSV = { 'content-type': 'text/csv; charset=utf-8' }
const OUTSIDE_RIGHTS = 3102
const ROLE_WORDS = /superadmin|organization_admin|organisation|company_admin|site_admin/i

type Rank = 0 | 1 | 2 | 3
const ROLES: Record<Rank, { roles: string[], adminType: string | null }> = {
  0: { roles: ['user'], adminType: null },
  1: { roles: ['user', 'admin'], adminType: 'company_admin' },
  2: { roles: ['user', 'admin'], adminType: 'organization_admin' },
  3: { roles: ['user', 'admin', 'superadmin'], adminType: 'superadmin' },
}

interface Target { id: string, email: string, rank: Rank }
interface PlanLine { lineNumber: number, loginEmail: string, outcome: string, status: string, errorCode?: number, errorMsg?: string }
interface ReportLine { lineNumber: number, loginEmail: string, status: string, errorCode?: number, errorMsg?: string }

/** What a line does when the caller may act on its target, per action. */
const ALLOWED: Record<string, string> = {
  update: 'update', delete: 'delete', upsert: 'update', sync: 'update', attach: 'attach', force_attach: 'force_attach', detach: 'detach', take: 'force_attach',
}

describe.each(dbKinds())('privileges of CSV lines (D12) on %s', (kind) => {
  let tdb: TestDb
  let ia: ImportApp
  let stalled: ImportApp
  let world: World
  const pbxId = `PRIV-${newId().slice(-8)}`
  let nextShort = 5000
  const tokens: Record<'adminA' | 'orgAdmin' | 'superadmin', string> = { adminA: '', orgAdmin: '', superadmin: '' }

  beforeAll(async () => {
    tdb = await openTestDb(kind)
    ia = await buildImportApp(tdb.db)
    stalled = await buildImportApp(tdb.db, { queue: false })
    world = await createWorld(tdb.db)
    await loadInventory(tdb.db, { companyId: world.companyA, pbxId, numbers: Array.from({ length: 600 }, (_, i) => ({ shortNumber: String(5000 + i), internalNumber: null, number: null })) })
    for (const who of ['adminA', 'orgAdmin', 'superadmin'] as const) tokens[who] = await login(ia.app, world[who].email, PASSWORD)
  })
  afterAll(async () => {
    await ia?.queue?.drained()
    await ia?.queue?.close()
    await ia?.app.close()
    await stalled?.app.close()
    await tdb?.close()
  })

  async function addRanked (rank: Rank, password: string | null = null, companyId = world.companyA): Promise<Target> {
    const id = newId()
    const email = `r${rank}-${id.slice(-10)}@example.com`
    await insertUser(tdb.db, { id, companyId, loginEmail: email, passwordHash: password ? await hashPassword(password) : null, firstName: 'Before', jidIm: `${id}@localhost`, ...ROLES[rank] })
    return { id, email, rank }
  }
  const freeNumber = () => String(nextShort++)

  const callers = [
    { who: 'adminA' as const, rank: 1, query: '' },
    { who: 'orgAdmin' as const, rank: 2, query: '' },
    // The superadmin belongs to company C and names A.
    { who: 'superadmin' as const, rank: 3, query: 'companyId=' },
  ]

  /** The file of one action, one line per target rank; set-up gives each line what it needs. */
  async function fileFor (action: string, targets: Target[]): Promise<{ path: string, body: string }> {
    const lines: string[] = []
    switch (action) {
      case 'update':
        lines.push('__action__;loginEmail;password;firstName', ...targets.map((t) => `update;${t.email};NewPassw0rd!9;Hacked`))
        return { path: '/users/imports', body: lines.join('\n') }
      case 'delete':
        lines.push('__action__;loginEmail', ...targets.map((t) => `delete;${t.email}`))
        return { path: '/users/imports', body: lines.join('\n') }
      case 'upsert':
        lines.push('__action__;loginEmail;firstName', ...targets.map((t) => `upsert;${t.email};Hacked`))
        return { path: '/users/imports/synchronize', body: lines.join('\n') }
      case 'sync':
        lines.push('__action__;loginEmail;firstName', ...targets.map((t) => `sync;${t.email};Hacked`))
        return { path: '/users/imports/synchronize', body: lines.join('\n') }
      case 'attach':
        lines.push('__action__;loginEmail;pbxId;pbxShortNumber', ...targets.map((t) => `attach;${t.email};${pbxId};${freeNumber()}`))
        return { path: '/users/imports', body: lines.join('\n') }
      case 'force_attach': {
        lines.push('__action__;loginEmail;pbxId;pbxShortNumber')
        for (const t of targets) {
          const holder = await addRanked(0)
          const short = freeNumber()
          await holdNumber(tdb.db, holder.id, pbxId, short)
          lines.push(`force_attach;${t.email};${pbxId};${short}`)
        }
        return { path: '/users/imports', body: lines.join('\n') }
      }
      case 'detach':
        lines.push('__action__;loginEmail;pbxId;pbxShortNumber')
        for (const t of targets) {
          await holdNumber(tdb.db, t.id, pbxId, freeNumber())
          lines.push(`detach;${t.email};;`)
        }
        return { path: '/users/imports', body: lines.join('\n') }
      case 'take': {
        // The line's user is a plain one; the number it takes is held by the ranked target.
        lines.push('__action__;loginEmail;pbxId;pbxShortNumber')
        for (const t of targets) {
          const taker = await addRanked(0)
          const short = freeNumber()
          await holdNumber(tdb.db, t.id, pbxId, short)
          lines.push(`force_attach;${taker.email};${pbxId};${short}`)
        }
        return { path: '/users/imports', body: lines.join('\n') }
      }
    }
    throw new Error(action)
  }

  const stateOf = async (t: Target) => (await tdb.db.query<{ first_name: string | null, password_hash: string | null, deleted_at: Date | null, numbers: number }>(
    'SELECT first_name, password_hash, deleted_at, (SELECT count(*)::int FROM phone_numbers n WHERE n.user_id = u.id) AS numbers FROM users u WHERE id = $1', [t.id]))[0]!

  it('every action on every target rank, for each kind of administrator: allowed up to its own rank, else the line fails 3102 in the check and in the import, and nothing changes', async ({ task }) => {
    let refused = 0
    let allowed = 0
    for (const caller of callers) {
      for (const action of Object.keys(ALLOWED)) {
        const targets = await Promise.all(([0, 1, 2, 3] as const).map((r) => addRanked(r)))
        const { path, body } = await fileFor(action, targets)
        const before = await Promise.all(targets.map(stateOf))
        const query = caller.query ? `?${caller.query}${world.companyA}` : ''
        const headers = { ...bearer(tokens[caller.who]), ...CSV }
        const checked = await ia.app.inject({ method: 'POST', url: `${MP}${path}/check${query}`, headers, payload: body })
        expect(checked.statusCode, checked.body).toBe(200)
        const { plan, deletionSafeguard } = checked.json<{ data: { plan: PlanLine[], deletionSafeguard: { deletions: number } } }>().data
        // The deletion safeguard counts exactly the lines the plan deletes; the import confirms that count, as a console would.
        expect(deletionSafeguard.deletions).toBe(plan.filter((l) => l.outcome === 'delete').length)
        const confirmed = `${query ? `${query}&` : '?'}confirmDeletes=${deletionSafeguard.deletions}`
        const imported = await ia.app.inject({ method: 'POST', url: `${MP}${path}${confirmed}`, headers, payload: body })
        expect(imported.statusCode, imported.body).toBe(200)
        await ia.queue!.drained()
        const details = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${imported.json<{ data: { reqId: string } }>().data.reqId}/details`, headers: bearer(tokens[caller.who]) })
        const lines = details.json<{ data: { status: string, report: ReportLine[] } }>().data.report
        for (const [i, t] of targets.entries()) {
          const what = `${caller.who} ${action} rank ${t.rank}`
          if (t.rank <= caller.rank) {
            expect(plan[i], what).toMatchObject({ outcome: ALLOWED[action], status: 'success' })
            expect(lines[i], what).toMatchObject({ status: 'success' })
            allowed++
          } else {
            expect(plan[i], what).toMatchObject({ outcome: 'error', status: 'failed', errorCode: OUTSIDE_RIGHTS })
            expect(plan[i]!.errorMsg, what).not.toMatch(ROLE_WORDS)
            expect(lines[i], what).toMatchObject({ status: 'failed', errorCode: OUTSIDE_RIGHTS })
            expect(lines[i]!.errorMsg, what).not.toMatch(ROLE_WORDS)
            expect(await stateOf(t), what).toEqual(before[i])
            refused++
          }
        }
      }
    }
    // 3 callers x 8 actions x 4 ranks: company_admin refuses 2 ranks, organization_admin 1, superadmin none.
    expect({ allowed, refused }).toEqual({ allowed: 8 * (2 + 3 + 4), refused: 8 * (2 + 1) })
    report(task, { lines: allowed + refused, allowed, refused })
  })

  it('rainbowvoice lines (upsert, detach, delete) are held to the same ranks, in the check and in the import', async () => {
    await loadCloudPbx(tdb.db, { companyId: world.companyA, ranges: [{ from: '9100', to: '9199' }], devices: [], ddis: [], services: [{ name: 'Priv Offer', licences: 100 }] })
    const plain = await addRanked(0)
    const [up, det, del] = [await addRanked(3), await addRanked(3), await addRanked(3)]
    const body = ['__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;firstName;service0;service1',
      `upsert;${plain.email};9101;;;;Hacked;;`,
      `upsert;${up.email};9102;;;NewPassw0rd!9;Hacked;;`,
      `detach;${det.email};9103;;;;;;`,
      `delete;${del.email};;;;;;;`,
    ].join('\n') + '\n'
    const headers = { ...bearer(tokens.adminA), ...CSV }
    const checked = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/rainbowvoice/check`, headers, payload: body })
    expect(checked.statusCode, checked.body).toBe(200)
    expect(checked.json<{ data: { plan: PlanLine[] } }>().data.plan.map((e) => e.errorCode ?? e.status)).toEqual(['success', OUTSIDE_RIGHTS, OUTSIDE_RIGHTS, OUTSIDE_RIGHTS])
    const before = await Promise.all([up, det, del].map(stateOf))
    const imported = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/rainbowvoice`, headers, payload: body })
    expect(imported.statusCode, imported.body).toBe(200)
    await ia.queue!.drained()
    const report = await ia.app.inject({ method: 'GET', url: `${MP}/users/imports/${imported.json<{ data: { reqId: string } }>().data.reqId}/details`, headers: bearer(tokens.adminA) })
    expect(report.json<{ data: { report: ReportLine[] } }>().data.report.map((l) => l.errorCode ?? l.status)).toEqual(['success', OUTSIDE_RIGHTS, OUTSIDE_RIGHTS, OUTSIDE_RIGHTS])
    expect(await Promise.all([up, det, del].map(stateOf))).toEqual(before)
    expect((await stateOf(plain)).first_name).toBe('Hacked')
  })

  it('the reproduced attack: a company_admin cannot set a superadmin\'s password by CSV and sign in as it', async () => {
    const secret = `Orig1nal!${newId().slice(-6)}`
    const sa = await addRanked(3, secret)
    const body = `__action__;loginEmail;password\nupdate;${sa.email};NewPassw0rd!\n`
    const res = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(tokens.adminA), ...CSV }, payload: body })
    expect(res.statusCode).toBe(200)
    await ia.queue!.drained()
    const signIn = (password: string) => ia.app.inject({ method: 'GET', url: '/api/rainbow/authentication/v1.0/login', headers: { authorization: basic(sa.email, password) } })
    expect((await signIn('NewPassw0rd!')).statusCode).toBe(401)
    expect((await signIn(secret)).statusCode).toBe(200)
    const hash = (await tdb.db.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [sa.id]))[0]!.h
    expect(await verifyPassword(hash, secret)).toBe(true)
  })

  it('is checked again at apply time: a target promoted, or a requester demoted, after the file was accepted fails its lines', async () => {
    const target = await addRanked(1)
    const plain = await addRanked(0)
    const body = `__action__;loginEmail;firstName\nupdate;${target.email};Later\nupdate;${plain.email};Later\n`
    const headers = { ...bearer(tokens.adminA), ...CSV }
    const check = await stalled.app.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers, payload: body })
    expect(check.json<{ data: { plan: PlanLine[] } }>().data.plan.map((e) => e.outcome)).toEqual(['update', 'update'])
    const accepted = await stalled.app.inject({ method: 'POST', url: `${MP}/users/imports`, headers, payload: body })
    expect(accepted.statusCode).toBe(200)
    const { reqId } = accepted.json<{ data: { reqId: string } }>().data
    await tdb.db.query('UPDATE users SET admin_type = \'organization_admin\' WHERE id = $1', [target.id])
    await runImport({ db: tdb.db, logger: pino({ level: 'silent' }), xmppDomain: 'localhost', chunkSize: 1000 }, reqId)
    const lines = (await stalled.app.inject({ method: 'GET', url: `${MP}/users/imports/${reqId}/details`, headers: bearer(tokens.adminA) })).json<{ data: { report: ReportLine[] } }>().data.report
    expect(lines.map((l) => l.errorCode ?? l.status)).toEqual([OUTSIDE_RIGHTS, 'success'])
    expect((await stateOf(target)).first_name).toBe('Before')

    // A second company_admin sends a file, then loses its rights before a worker applies it.
    const admin2 = await addRanked(1, PASSWORD)
    const token2 = await login(stalled.app, admin2.email, PASSWORD)
    const other = await addRanked(0)
    const body2 = `__action__;loginEmail;firstName\nupdate;${other.email};Later\n`
    const res2 = await stalled.app.inject({ method: 'POST', url: `${MP}/users/imports`, headers: { ...bearer(token2), ...CSV }, payload: body2 })
    expect(res2.statusCode).toBe(200)
    await tdb.db.query('UPDATE users SET roles = \'{user}\', admin_type = NULL WHERE id = $1', [admin2.id])
    const reqId2 = res2.json<{ data: { reqId: string } }>().data.reqId
    await runImport({ db: tdb.db, logger: pino({ level: 'silent' }), xmppDomain: 'localhost', chunkSize: 1000 }, reqId2)
    const line = (await tdb.db.query<{ status: string, error_code: number }>('SELECT status, error_code FROM import_line_results WHERE req_id = $1', [reqId2]))[0]
    expect(line).toMatchObject({ status: 'failed', error_code: OUTSIDE_RIGHTS })
    expect((await stateOf(other)).first_name).toBe('Before')
  })

  it('a CSV never grants a role: users created by a superadmin\'s file are plain users, and a roles column is refused', async () => {
    const email = `made-${newId().slice(-10)}@example.com`
    const headers = { ...bearer(tokens.superadmin), ...CSV }
    const res = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports?companyId=${world.companyA}`, headers, payload: `__action__;loginEmail;firstName\ncreate;${email};New\n` })
    expect(res.statusCode).toBe(200)
    await ia.queue!.drained()
    expect(await tdb.db.query('SELECT roles, admin_type, role_rank FROM users WHERE login_email = $1', [email])).toEqual([{ roles: ['user'], admin_type: null, role_rank: 0 }])
    for (const column of ['roles', 'adminType']) {
      const refused = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/check?companyId=${world.companyA}`, headers, payload: `__action__;loginEmail;${column}\ncreate;x-${email};admin\n` })
      expect(refused.statusCode).toBe(400)
      expect(refused.json()).toMatchObject({ errorDetailsCode: 400502 })
    }
  })

  it('a file cannot delete the account of the administrator who sends it', async () => {
    const res = await ia.app.inject({ method: 'POST', url: `${MP}/users/imports/check`, headers: { ...bearer(tokens.adminA), ...CSV }, payload: `__action__;loginEmail\ndelete;${world.adminA.email}\n` })
    expect(res.json<{ data: { plan: PlanLine[] } }>().data.plan[0]).toMatchObject({ outcome: 'error', errorCode: OUTSIDE_RIGHTS })
  })

  it('item 9: a create of a login e-mail taken in another company says the same words as one taken in the caller\'s company', async () => {
    const own = await addRanked(0)
    const elsewhere = await addRanked(0, null, world.companyB)
    const headers = { ...bearer(tokens.adminA), ...CSV }
    const plan = async (action: string, email: string) => (await ia.app.inject({ method: 'POST', url: `${MP}/users/imports${action === 'upsert' ? '/synchronize' : ''}/check`, headers, payload: `__action__;loginEmail;firstName\n${action};${email};X\n` })).json<{ data: { plan: PlanLine[] } }>().data.plan[0]!
    for (const action of ['create', 'upsert']) {
      const a = await plan(action, own.email)
      const b = await plan(action, elsewhere.email)
      if (action === 'create') expect(a).toMatchObject({ errorCode: 409600 })
      expect(b).toMatchObject({ outcome: 'error', errorCode: 409600 })
      expect(b.errorMsg).toBe(`login e-mail ${elsewhere.email} is not available`)
      expect(b.errorMsg).not.toMatch(/compan/i)
      if (action === 'create') expect(a.errorMsg!.replace(own.email, 'E')).toBe(b.errorMsg!.replace(elsewhere.email, 'E'))
    }
    // update and delete of another company's user read as "no such user", like an e-mail nobody has.
    const ghost = `ghost-${newId().slice(-10)}@example.com`
    for (const action of ['update', 'delete']) {
      const b = await plan(action, elsewhere.email)
      const g = await plan(action, ghost)
      expect(b.errorMsg!.replace(elsewhere.email, 'E')).toBe(g.errorMsg!.replace(ghost, 'E'))
      expect(b.errorCode).toBe(g.errorCode)
    }
  })
})
