import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findImport } from '../../db/imports-repository.js'
import type { UserRow } from '../../db/users-repository.js'
import { Errors } from '../../errors.js'
import type { ImportQueue } from '../../jobs/queue.js'
import { acceptRevert, checkRevert } from '../../provisioning/revert.js'
import { callerOf } from '../../services/company-scope.js'
import { displayNameOf } from '../../services/user-view.js'
import { IdSchema, safeText } from '../../schemas/common.js'
import { echoId } from '../../util/safe-text.js'
import { CommandIdSchema, Flag } from './query-schemas.js'

const ReqIdParams = z.object({ reqId: safeText(128) })

const CODES = 'Conflicts are failed lines with their own codes: 3111 a value the line set was changed since, 3112 the login e-mail of a user to restore is taken, 3113 a number is held by someone else now (or changed), 3114 the user was deleted since, 3115 the line released Rainbow Voice resources a revert does not restore; 3102 as for any line (D12).'

/**
 * Revert of an import (issue 18, an extension of this server): its dry run and the revert itself, an
 * import of operation `revert` applied by the same job. A body, if any, is ignored.
 */
const reverts: FastifyPluginAsyncZod<{ db: Db, queue: ImportQueue | undefined }> = async (app, opts) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, undefined))

  /** The import, in the company asked (the caller's by default); another company's is missing, never forbidden (D7). */
  async function revertible (caller: UserRow, reqId: string, companyId: string | undefined) {
    const company = await app.companyScope.resolve(caller, companyId)
    const imp = /^[0-9a-f]{64}$/.test(reqId) ? await findImport(opts.db, reqId) : undefined
    if (!imp || imp.companyId !== company) throw Errors.notFound(`Import ${echoId(reqId)}`)
    return imp
  }

  app.post('/users/imports/:reqId/revert/check', {
    schema: {
      summary: 'Dry run of the revert of an import (issue 18): what each line would put back, last line first, and every conflict',
      description: `Answers as the check of a file (\`{"data": {reqId, mode, actions, columns, delimiter, profiles, errors, plan}}\`) plus \`operation: "revert"\` and \`reverts\` (the import's reqId). \`reqId\` is the revert's. \`plan\` has one entry per line of the import that changed something, last line first: outcome delete (a user the line created), restore (a user it deleted), update (fields it changed, \`changes\` current → restored; a password only as hidden → restored), attach or detach (its numbers, \`device\`), unchanged (already as before), error. \`actions\` counts the lines that would not fail by outcome. ${CODES} 409 while the import is Pending or for a Rainbow Voice import.`,
      tags: ['massprovisioning'],
      params: ReqIdParams,
      querystring: z.object({
        companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
        plan: Flag.optional().describe('false leaves the per-line plan out of the answer; default true'),
      }),
    },
    config: { checkSlot: true },
  }, async (request) => {
    const caller = request.auth!.user
    const imp = await revertible(caller, request.params.reqId, request.query.companyId)
    return checkRevert(opts.db, imp, callerOf(caller), request.query.plan ?? true)
  })

  app.post('/users/imports/:reqId/revert', {
    schema: {
      summary: 'Revert an ended import (issue 18): a new import of operation revert that undoes its applied lines, last line first',
      description: `Answers as POST /users/imports (status Pending, a reqId of its own) plus \`operation: "revert"\` and \`reverts\`. Created users are deleted, updated fields set back where they still hold the imported value, deleted users restored, numbers put back; a line in conflict fails and the others go on. ${CODES} 409 while the import is Pending, when it is already reverted (delete the revert's report to revert again) or for a Rainbow Voice import; 404 for an import of another company.`,
      tags: ['massprovisioning'],
      params: ReqIdParams,
      querystring: z.object({
        companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
        label: safeText(256).optional().describe('A text description of this revert'),
        commandId: CommandIdSchema.optional(),
      }),
    },
    config: { pendingImportCap: true },
  }, async (request) => {
    const caller = request.auth!.user
    const imp = await revertible(caller, request.params.reqId, request.query.companyId)
    const summary = await acceptRevert(opts.db, imp, {
      label: request.query.label ?? null,
      commandId: request.query.commandId,
      requester: { id: caller.id, displayName: displayNameOf(caller), jid: caller.jidIm },
    })
    request.log.info({ reqId: summary.reqId, reverts: imp.reqId, companyId: imp.companyId }, 'revert accepted')
    // After the commit: if this fails, the revert is stored and resumes when a worker starts.
    await opts.queue?.enqueue({ reqId: summary.reqId, companyId: imp.companyId }).catch((err: unknown) => request.log.error({ err, reqId: summary.reqId }, 'enqueue failed'))
    return { data: summary }
  })
}

export default reverts
