import fp from 'fastify-plugin'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/db.js'
import { Errors, RainbowError } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import { importCommandReport, refuseCommand, reportCommand } from '../../notifications/commands.js'
import { IdSchema } from '../../schemas/common.js'
import { CommandIdSchema } from './query-schemas.js'

const MAX_DETAILS = 64 * 1024

/** `details` is a string on the wire (contract §2 row 10); a JSON value is kept as sent, within the same bound. */
const ReportBody = z.object({
  status: z.enum(['success', 'failure']),
  details: z.union([z.string().max(MAX_DETAILS), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional()
    .refine((d) => d === undefined || typeof d === 'string' || JSON.stringify(d).length <= MAX_DETAILS, `details must stay under ${MAX_DETAILS} characters`),
}).refine((b) => b.status !== 'failure' || (b.details !== undefined && b.details !== ''), {
  // A failure without its reason leaves the administrator nothing to act on.
  message: 'details is required when status is failure: say what went wrong', path: ['details'],
})

const Params = z.object({ commandId: CommandIdSchema })
const Query = z.object({ companyId: IdSchema.optional().describe('Defaults to the caller\'s company') })
const ReportAnswer = z.object({ status: z.enum(['success', 'failure', 'pending']), report: z.record(z.string(), z.unknown()) })

const commandReports: FastifyPluginAsyncZod<{ db: Db }> = async (app, opts) => {
  app.get('/users/imports/synchronize/:commandId/report', {
    schema: {
      summary: 'The report of a synchronize command: {status, report} without the data envelope (D1)',
      description: 'pending while the import runs (with its live counters), then success or failure. A commandId of another company is a 404.',
      tags: ['massprovisioning'],
      params: Params,
      querystring: Query,
      response: { 200: ReportAnswer },
    },
  }, async (request) => {
    const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
    const found = await importCommandReport(opts.db, companyId, request.params.commandId)
    if (!found) throw Errors.notFound(`Command ${echoId(request.params.commandId)}`)
    return found
  })

  app.post('/users/imports/synchronize/:commandId/report', {
    bodyLimit: 2 * MAX_DETAILS,
    schema: {
      summary: 'Create or complete the report of a command; the command ends (one command_ended over XMPP)',
      description: 'For a command that needed no import (nothing to do, an error on the connector side). details is required with failure. A second POST updates the report and sends no second command_ended. 409 when the command already ended otherwise: its import has ended (Terminated, Failed, Cancelled) or was refused, or it ran a check: a posted report never replaces theirs.',
      tags: ['massprovisioning'],
      params: Params,
      querystring: Query,
      body: ReportBody,
      response: { 200: ReportAnswer },
    },
  }, async (request) => {
    const user = request.auth!.user
    const companyId = await app.companyScope.resolve(user, request.query.companyId)
    return reportCommand(opts.db, {
      companyId, commandId: request.params.commandId, status: request.body.status, details: request.body.details, requester: { id: user.id, jid: user.jidIm },
    })
  })
}

export default commandReports

const REFUSED = new Set([400, 409, 413, 415])

/**
 * Ends a connector's command when its synchronize is refused before anything was stored: bad file
 * or parameter (400), same file again (409), too large (413), wrong type (415). Runs in onSend, so
 * the report exists before the caller reads the answer. Transient refusals (429, 503) end nothing:
 * the connector may retry the same command. (synchronize/check ends its refused commands itself.)
 */
export const commandRefusals = fp<{ db: Db, routePrefix: string }>(async (app, opts) => {
  const url = `${opts.routePrefix}/users/imports/synchronize`
  app.addHook('onSend', async (request, reply, payload) => {
    const user = request.auth?.user
    if (request.method !== 'POST' || request.routeOptions.url !== url || !REFUSED.has(reply.statusCode) || !user) return payload
    const query = (request.query ?? {}) as Record<string, unknown>
    const commandId = CommandIdSchema.safeParse(query.commandId)
    if (!commandId.success) return payload
    // A companyId outside the caller's scope names no command of theirs: nothing to end. Any other
    // failure is logged; the caller's answer stands either way.
    const companyId = await app.companyScope.resolve(user, typeof query.companyId === 'string' ? query.companyId : undefined).catch((err: unknown) => {
      if (!(err instanceof RainbowError)) request.log.error({ err, commandId: commandId.data }, 'could not resolve the company of a refused command')
      return undefined
    })
    if (!companyId) return payload
    try {
      const error = typeof payload === 'string' ? JSON.parse(payload) as unknown : { errorCode: reply.statusCode }
      await refuseCommand(opts.db, { companyId, kind: 'import', commandId: commandId.data, error, requester: { id: user.id, jid: user.jidIm } })
    } catch (err) {
      // The caller's answer stands; only the notification is lost, and the log says so.
      request.log.error({ err, commandId: commandId.data }, 'could not end the refused command')
    }
    return payload
  })
}, { name: 'command-refusals' })
