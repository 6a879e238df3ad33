import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findPbx, listPbxs, listPhoneNumbers, type PbxRow } from '../../db/pbx-repository.js'
import { Errors } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import { CompanyQuerySchema, IdSchema, safeText } from '../../schemas/common.js'
import { PbxViewSchema, PhoneNumberViewSchema } from '../../schemas/admin.js'

function toPbxView (p: PbxRow) {
  return { id: p.id, pbxId: p.pbxId, companyId: p.companyId, name: p.name, phoneNumbers: p.numbers, creationDate: p.createdAt.toISOString() }
}

const pbxs: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  app.get('/pbxs', {
    schema: {
      summary: 'PBX systems of a company',
      tags: ['admin'],
      querystring: CompanyQuerySchema,
      response: { 200: z.object({ data: z.array(PbxViewSchema) }) },
    },
  }, async (request) => {
    const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    return { data: (await listPbxs(opts.db, companyId)).map(toPbxView) }
  })

  app.get('/pbxs/:pbxId/phonenumbers', {
    schema: {
      summary: 'The phone numbers of a PBX and who holds them; 404 when outside the caller\'s scope',
      tags: ['admin'],
      params: z.object({ pbxId: safeText(64, 1) }),
      querystring: z.object({ userId: IdSchema.optional().describe('Only the numbers this user holds') }),
      response: { 200: z.object({ data: z.array(PhoneNumberViewSchema) }) },
    },
  }, async (request) => {
    const { pbxId } = request.params
    const pbx = await findPbx(opts.db, pbxId)
    if (!pbx) throw Errors.notFound(`PBX ${echoId(pbxId)}`)
    await app.companyScope.assertVisible(request.auth!.user, pbx.companyId, `PBX ${pbxId}`)
    const numbers = await listPhoneNumbers(opts.db, pbx.id, request.query.userId)
    return { data: numbers.map((n) => ({ ...n, attachedAt: n.attachedAt?.toISOString() ?? null })) }
  })
}

export default pbxs
