import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findCompany } from '../../db/companies-repository.js'
import { listNumbersHeldBy } from '../../db/pbx-repository.js'
import { findLiveUserById, type UserRow } from '../../db/users-repository.js'
import { Errors } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import { UserViewSchema } from '../../schemas/admin.js'
import { IdSchema, safeText } from '../../schemas/common.js'
import { toUserView } from '../../services/user-view.js'

const CompanyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  organisationId: z.string().nullable(),
  creationDate: z.string(),
})

/**
 * The two end-user reads the official SDK makes around sign-in (contract §8): its own user (token
 * sign-in) and its company (`format=full&selectedThemeObj=false`, whose errors it ignores). Any
 * signed-in user may call them: the SDK signs in users, not only administrators.
 */
const enduser: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  /** Self and colleagues always; beyond, an administrator's own scope and rank (D12). Else a 404, never a 403. */
  async function visibleUser (caller: UserRow, userId: string): Promise<UserRow> {
    const user = IdSchema.safeParse(userId).success ? await findLiveUserById(opts.db, userId) : undefined
    if (user && (user.id === caller.id || user.companyId === caller.companyId)) return user
    if (user && user.roleRank <= caller.roleRank && await app.companyScope.canSee(caller, user.companyId)) return user
    throw Errors.notFound(`User ${echoId(userId)}`)
  }

  app.get('/users/:userId', {
    schema: {
      summary: 'One user, for end users: itself or a user of its company; an administrator also the users of its scope up to its rank; 404 otherwise',
      tags: ['enduser'],
      params: z.object({ userId: safeText(64) }),
      response: { 200: z.object({ data: UserViewSchema }) },
    },
  }, async (request) => {
    const user = await visibleUser(request.auth!.user, request.params.userId)
    return { data: toUserView(user, await listNumbersHeldBy(opts.db, [user.id])) }
  })

  app.get('/companies/:companyId', {
    schema: {
      summary: 'One company, for end users: its own; an administrator also the companies of its scope; 404 otherwise',
      description: 'The SDK sends format=full&selectedThemeObj=false; both are accepted and change nothing (this server keeps no themes).',
      tags: ['enduser'],
      params: z.object({ companyId: safeText(64) }),
      querystring: z.object({ format: z.enum(['small', 'medium', 'full']).optional(), selectedThemeObj: z.enum(['true', 'false']).optional() }),
      response: { 200: z.object({ data: CompanyViewSchema }) },
    },
  }, async (request) => {
    const caller = request.auth!.user
    const { companyId } = request.params
    const company = IdSchema.safeParse(companyId).success ? await findCompany(opts.db, companyId) : undefined
    if (!company || (company.id !== caller.companyId && !(await app.companyScope.canSee(caller, company.id)))) throw Errors.notFound(`Company ${echoId(companyId)}`)
    return { data: { id: company.id, name: company.name, organisationId: company.organizationId, creationDate: company.createdAt.toISOString() } }
  })
}

export default enduser
