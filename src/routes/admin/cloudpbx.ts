import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import type { UserRow } from '../../db/users-repository.js'
import { findCloudPbx, listDdis, listDevices } from '../../db/cloudpbx-repository.js'
import { Errors } from '../../errors.js'
import { CompanyQuerySchema } from '../../schemas/common.js'
import { CloudPbxViewSchema, DdiViewSchema, SipDeviceViewSchema } from '../../schemas/admin.js'

interface Held { userId: string | null, attachedAt: Date | null, holderRank?: number | null, holderEmail?: string | null }

/** D12: a holder above the caller's rank is as invisible as in the users view; only the fact that it is held shows. */
function holder (row: Held, callerRank: number) {
  const visible = row.userId !== null && (row.holderRank ?? Infinity) <= callerRank
  return { userId: visible ? row.userId : null, loginEmail: visible ? row.holderEmail ?? null : null, held: row.userId !== null, attachedAt: row.attachedAt?.toISOString() ?? null }
}

const cloudpbx: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  async function companyWithCloudPbx (caller: UserRow, asked: string | undefined) {
    const companyId = await app.companyScope.resolve(caller, asked)
    const found = await findCloudPbx(opts.db, companyId)
    if (!found) throw Errors.notFound(`Cloud PBX of company ${companyId}`)
    return found
  }

  app.get('/cloudpbx', {
    schema: {
      summary: 'The Rainbow Voice Cloud PBX of a company (D18): numbering plan, service offers with licences in use, inventory counts; 404 when it has none',
      tags: ['admin'],
      querystring: CompanyQuerySchema,
      response: { 200: z.object({ data: CloudPbxViewSchema }) },
    },
  }, async (request) => {
    const c = await companyWithCloudPbx(request.auth!.user, request.query.companyId)
    return { data: { companyId: c.companyId, numberingPlan: c.ranges, services: c.services, devices: c.devices, ddis: c.ddis, subscribers: c.subscribers, creationDate: c.createdAt.toISOString() } }
  })

  app.get('/cloudpbx/devices', {
    schema: {
      summary: 'The SIP devices of a company\'s Cloud PBX and who holds each',
      tags: ['admin'],
      querystring: CompanyQuerySchema,
      response: { 200: z.object({ data: z.array(SipDeviceViewSchema) }) },
    },
  }, async (request) => {
    const c = await companyWithCloudPbx(request.auth!.user, request.query.companyId)
    const rank = request.auth!.user.roleRank
    return { data: (await listDevices(opts.db, c.companyId)).map((d) => ({ id: d.id, companyId: d.companyId, macAddress: d.macAddress, model: d.model, ...holder(d, rank) })) }
  })

  app.get('/cloudpbx/ddis', {
    schema: {
      summary: 'The DDI numbers of a company\'s Cloud PBX and who holds each',
      tags: ['admin'],
      querystring: CompanyQuerySchema,
      response: { 200: z.object({ data: z.array(DdiViewSchema) }) },
    },
  }, async (request) => {
    const c = await companyWithCloudPbx(request.auth!.user, request.query.companyId)
    const rank = request.auth!.user.roleRank
    return { data: (await listDdis(opts.db, c.companyId)).map((d) => ({ id: d.id, companyId: d.companyId, number: d.number, ...holder(d, rank) })) }
  })
}

export default cloudpbx
