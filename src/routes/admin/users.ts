import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { listNumbersHeldBy } from '../../db/pbx-repository.js'
import { findLiveUserById, listLiveUsers } from '../../db/users-repository.js'
import { Errors } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import { toUserView } from '../../services/user-view.js'
import { CompanyQuerySchema, IdSchema, PageQuerySchema, safeText } from '../../schemas/common.js'
import { UserViewSchema } from '../../schemas/admin.js'

const users: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  app.get('/users', {
    schema: {
      summary: 'Users of a company (what imports produce), paged; administrators above the caller\'s rank are left out (D12)',
      tags: ['admin'],
      querystring: CompanyQuerySchema.extend(PageQuerySchema.shape).extend({
        loginEmail: safeText(254).optional().describe('Only the user with this login e-mail (compared without case)'),
      }),
      response: { 200: z.object({ data: z.array(UserViewSchema), limit: z.number(), offset: z.number(), total: z.number() }) },
    },
  }, async (request) => {
    const caller = request.auth!.user
    const companyId = await app.companyScope.resolve(caller, request.query.companyId)
    const { limit, offset, loginEmail } = request.query
    const page = await listLiveUsers(opts.db, companyId, { limit, offset, loginEmail }, caller.roleRank)
    const held = await listNumbersHeldBy(opts.db, page.rows.map((u) => u.id))
    return { data: page.rows.map((u) => toUserView(u, held)), limit, offset, total: page.total }
  })

  app.get('/users/:userId', {
    schema: {
      summary: 'One user; 404 when it does not exist, is outside the caller\'s scope or above its rank',
      tags: ['admin'],
      params: z.object({ userId: safeText(64) }),
      response: { 200: z.object({ data: UserViewSchema }) },
    },
  }, async (request) => {
    const { userId } = request.params
    const user = IdSchema.safeParse(userId).success ? await findLiveUserById(opts.db, userId) : undefined
    // A user above the caller's rank is as invisible as one of another company (D12).
    if (!user || user.roleRank > request.auth!.user.roleRank) throw Errors.notFound(`User ${echoId(userId)}`)
    await app.companyScope.assertVisible(request.auth!.user, user.companyId, `User ${echoId(userId)}`)
    return { data: toUserView(user, await listNumbersHeldBy(opts.db, [user.id])) }
  })
}

export default users
