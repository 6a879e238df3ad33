import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { IdSchema, safeText } from '../../schemas/common.js'
import { streamUserList } from '../../services/user-list.js'
import { Flag } from './query-schemas.js'

const DESCRIPTION = `The company's users in the useranddevice columns (D19), for a connector to diff against its directory.
No password column; the hidden ldap_id column is included; each indexed family (tags{n}, email{n}, businessPhone{n},
mobilePhone{n}, service{n}) has as many columns as the company's longest list; __action__ is sync, and the device
columns hold the user's PBX number (the first, by PBX and short number, when it holds several).
- \`format=csv\`: \`{"data": ["<header>", "<line>", …]}\`, ; as delimiter, values quoted when they hold ; " % or
  white space at an end. Posted back to /users/imports/synchronize/check, it plans no change.
- \`format=json\` (the default): \`{"data": {"<loginEmail>": {"<column>": "<cell>", …}, …}}\`: per user, the same cells
  as the CSV line keyed by the CSV's column names (without __action__), "" for an empty cell.
- \`format=all\`: \`{"data": {"jsonContent": <json's data>, "csvContent": <csv's data>}}\`.
Users above the caller's rank are left out (D12). \`ldap_id=true\` lists only the users that have an ldap_id;
\`ldapConfigId\` is accepted and, as this server keeps no LDAP configurations, means the same. Written as it is read
(pages of users), so 250,000 users are never held in memory.`

const userList: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  app.get('/users/synchronize', {
    schema: {
      summary: 'The company\'s users as a useranddevice CSV (lines or JSON), for a connector\'s synchronization diff',
      description: DESCRIPTION,
      tags: ['massprovisioning'],
      querystring: z.object({
        companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
        format: z.enum(['csv', 'json', 'all']).default('json'),
        ldap_id: Flag.optional().describe('true: only the users that have an ldap_id'),
        ldapConfigId: safeText(128).optional(),
      }),
    },
  }, async (request, reply) => {
    const caller = request.auth!.user
    const companyId = await app.companyScope.resolve(caller, request.query.companyId)
    const { format, ldap_id: ldapId, ldapConfigId } = request.query
    const scope = { companyId, maxRank: caller.roleRank, ldapOnly: ldapId === true || ldapConfigId !== undefined }
    return reply.type('application/json; charset=utf-8').send(await streamUserList(opts.db, scope, format))
  })
}

export default userList
