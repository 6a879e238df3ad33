import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import type { UserRow } from '../../db/users-repository.js'
import { deleteImport, findImport, listImports } from '../../db/imports-repository.js'
import { Errors } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import type { ImportQueue } from '../../jobs/queue.js'
import { cancelImport } from '../../provisioning/import-end.js'
import { acceptImport } from '../../provisioning/intake.js'
import { importView, streamImportReport, voiceReportView } from '../../provisioning/reports.js'
import { callerOf } from '../../services/company-scope.js'
import { displayNameOf } from '../../services/user-view.js'
import { IdSchema, safeText } from '../../schemas/common.js'
import { acceptCsvBodies, csvBody } from './csv-body.js'
import { CommandIdSchema, ConfirmDeletes, Flag, OneChar } from './query-schemas.js'

const ImportQuery = z.object({
  companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
  label: safeText(256).optional().describe('A text description of this import'),
  noemails: Flag.optional().describe('Accepted and recorded; this server sends no e-mail'),
  nostrict: Flag.optional().describe('create of an existing user updates it; delete of a missing user is a warning'),
  delimiter: OneChar.optional(),
  comment: OneChar.optional(),
  confirmDeletes: ConfirmDeletes.optional(),
})

const ReqIdParams = z.object({ reqId: safeText(128) })

const imports: FastifyPluginAsyncZod<{ db: Db, queue: ImportQueue | undefined, maxDeletePercent: number }> = async (app, opts) => {
  acceptCsvBodies(app)

  async function enqueue (reqId: string, companyId: string) {
    // After the commit: if this fails, the import is stored and resumes when a worker starts.
    await opts.queue?.enqueue({ reqId, companyId }).catch((err: unknown) => app.log.error({ err, reqId }, 'enqueue failed'))
  }

  const SUMMARIES = {
    import: 'Import a user or device CSV',
    synchronize: 'Synchronize users and devices with a useranddevice CSV',
    rainbowvoice: 'Import a Rainbow Voice CSV (mode rainbowvoice): users as subscribers of the company\'s Cloud PBX, with their SIP device, DDI and services',
  }
  for (const [path, operation] of [['/users/imports', 'import'], ['/users/imports/synchronize', 'synchronize'], ['/users/imports/rainbowvoice', 'rainbowvoice']] as const) {
    app.post(path, {
      schema: {
        summary: SUMMARIES[operation],
        description: 'The import is stored before the answer (status Pending); lines are applied in the background. The same file twice is a 409 naming its reqId (D2). Deletion safeguard: when the lines that would delete a live user of the company are more than MAX_DELETE_PERCENT % (default 10) of its live users, the file is refused with 409 and errorDetailsCode 409630, nothing stored, unless `confirmDeletes` is exactly that count (the check answers give it as data.deletionSafeguard).',
        tags: ['massprovisioning'],
        querystring: operation !== 'synchronize' ? ImportQuery : ImportQuery.extend({ commandId: CommandIdSchema.optional(), ldapConfigId: safeText(128).optional() }),
      },
      config: { pendingImportCap: true },
    }, async (request) => {
      const user = request.auth!.user
      const companyId = await app.companyScope.resolve(user, request.query.companyId)
      const q = request.query as z.infer<typeof ImportQuery> & { commandId?: string }
      const summary = await acceptImport(opts.db, {
        companyId,
        operation,
        body: csvBody(request.body),
        label: q.label ?? null,
        noemails: q.noemails ?? true,
        nostrict: q.nostrict ?? false,
        delimiter: q.delimiter,
        comment: q.comment,
        commandId: q.commandId,
        requester: { id: user.id, displayName: displayNameOf(user), jid: user.jidIm },
        caller: callerOf(user),
        maxDeletePercent: opts.maxDeletePercent,
        confirmDeletes: q.confirmDeletes,
      })
      request.log.info({ reqId: summary.reqId, companyId, mode: summary.mode, operation }, 'import accepted')
      await enqueue(summary.reqId, companyId)
      return { data: summary }
    })
  }

  app.get('/users/imports', {
    schema: {
      summary: 'Imports of a company, newest first, with their counters',
      tags: ['massprovisioning'],
      querystring: z.object({ companyId: IdSchema.optional(), ldapConfigId: safeText(128).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    },
  }, async (request) => {
    const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    return { data: (await listImports(opts.db, companyId, request.query.limit)).map(importView) }
  })

  /** A reqId of another company is reported as missing, never as forbidden (D7). */
  async function visibleImport (caller: UserRow, reqId: string) {
    const imp = /^[0-9a-f]{64}$/.test(reqId) ? await findImport(opts.db, reqId) : undefined
    if (!imp) throw Errors.notFound(`Import ${echoId(reqId)}`)
    await app.companyScope.assertVisible(caller, imp.companyId, `Import ${reqId}`)
    return imp
  }

  app.get('/users/imports/:reqId/details', {
    schema: {
      summary: 'Status report of an import (D3): counters always; format=full adds one entry per line in file order',
      tags: ['massprovisioning'],
      params: ReqIdParams,
      querystring: z.object({ format: z.enum(['small', 'full']).default('full') }),
    },
  }, async (request, reply) => {
    const imp = await visibleImport(request.auth!.user, request.params.reqId)
    const voice = await voiceReportView(opts.db, imp)
    if (request.query.format === 'small') return { data: { ...importView(imp), ...voice } }
    return reply.type('application/json; charset=utf-8').send(streamImportReport(opts.db, imp, voice))
  })

  // The SDK sends this DELETE with Content-Type: application/json and the body {} (contract §2 row 5):
  // any body is accepted and ignored, so it gets parsers of its own instead of the CSV ones above.
  await app.register(async (plain) => {
    plain.removeAllContentTypeParsers()
    plain.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, undefined))
    plain.withTypeProvider<ZodTypeProvider>().delete('/users/imports/:reqId/details', {
      schema: {
        summary: 'Delete an import report (D6), after which the same file may be imported again; 409 while Pending',
        tags: ['massprovisioning'],
        params: ReqIdParams,
      },
    }, async (request) => {
      const imp = await visibleImport(request.auth!.user, request.params.reqId)
      if (imp.status === 'Pending') throw Errors.conflict(`Import ${imp.reqId} is still running; delete its report once it has ended`)
      await opts.db.transaction((tx) => deleteImport(tx, imp.reqId))
      return { data: { reqId: imp.reqId, status: 'deleted' } }
    })
    plain.withTypeProvider<ZodTypeProvider>().post('/users/imports/:reqId/cancel', {
      schema: {
        summary: 'Cancel a Pending import (D16, an extension of this server)',
        description: 'Ends the import as Cancelled at its next chunk boundary: the chunk being applied commits first and its lines stay applied and reported; every line not applied gets a failed result with errorCode 3197. The company is free for its next import, and the report can be deleted. A body, if any, is ignored.',
        tags: ['massprovisioning'],
        params: ReqIdParams,
      },
    }, async (request) => {
      const caller = request.auth!.user
      const imp = await visibleImport(caller, request.params.reqId)
      const r = await cancelImport(opts.db, imp.reqId, `${displayNameOf(caller) || caller.loginEmail} (${caller.id})`)
      if (!r.imp) throw Errors.notFound(`Import ${imp.reqId}`)
      if (!r.ended) throw Errors.conflict(`Import ${imp.reqId} has already ended (${r.imp?.status ?? 'deleted'}); there is nothing to cancel`)
      request.log.info({ reqId: imp.reqId, companyId: imp.companyId, processed: r.imp.processed, total: r.imp.total }, 'import cancelled')
      return { data: importView(r.imp) }
    })
  })
}

export default imports
