import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { findCommandReport } from '../../db/commands-repository.js'
import { Errors, RainbowError } from '../../errors.js'
import { checkCsv, storeCommandCheck } from '../../provisioning/check.js'
import { IdSchema } from '../../schemas/common.js'
import { acceptCsvBodies, csvBody } from './csv-body.js'
import { CommandIdSchema, Flag, OneChar } from './query-schemas.js'

const CheckQuery = z.object({
  companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
  delimiter: OneChar.optional().describe('Detected among ; , TAB | from the header line when absent'),
  comment: OneChar.optional().describe('Comment character, default %'),
  nostrict: Flag.optional().describe('Plan create of an existing user as an update, delete of a missing one as a warning'),
})

const checks: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  acceptCsvBodies(app)

  app.post('/users/imports/check', {
    schema: {
      summary: 'Check a user or device CSV (dry run: every error and what each line would do)',
      tags: ['massprovisioning'],
      querystring: CheckQuery,
    },
  }, async (request) => {
    const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    const { delimiter, comment, nostrict } = request.query
    return { data: await checkCsv(opts.db, { companyId, endpoint: 'import', body: csvBody(request.body), delimiter, comment, nostrict: nostrict ?? false }) }
  })

  app.post('/users/imports/synchronize/check', {
    schema: {
      summary: 'Check a useranddevice CSV for synchronization; with commandId the report is stored and the command ends',
      tags: ['massprovisioning'],
      querystring: CheckQuery.extend({ commandId: CommandIdSchema.optional() }),
    },
  }, async (request) => {
    const user = request.auth!.user
    const companyId = await app.companyScope.resolve(user, request.query.companyId)
    const { delimiter, comment, nostrict, commandId } = request.query
    const command = commandId ? { commandId, requesterId: user.id, requesterJid: user.jidIm } : undefined
    const body = csvBody(request.body)
    try {
      return { data: await checkCsv(opts.db, { companyId, endpoint: 'synchronize', body, delimiter, comment, nostrict: nostrict ?? false, command }) }
    } catch (err) {
      // A refused file still ends the connector's command, with the reason, so it never waits forever.
      if (command && err instanceof RainbowError && err.statusCode === 400) await storeCommandCheck(opts.db, companyId, command, 'failure', { error: err.toBody() })
      throw err
    }
  })

  app.get('/users/imports/synchronize/check/:commandId/report', {
    schema: {
      summary: 'The stored check report of a command: {status, report} without the data envelope (D1)',
      tags: ['massprovisioning'],
      params: z.object({ commandId: CommandIdSchema }),
      querystring: z.object({ companyId: IdSchema.optional() }),
    },
  }, async (request) => {
    const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    const found = await findCommandReport(opts.db, companyId, 'check', request.params.commandId)
    if (!found) throw Errors.notFound(`Command ${request.params.commandId}`)
    return { status: found.status, report: found.report }
  })
}

export default checks
