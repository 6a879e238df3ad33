import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { LineThreads } from '../../csv/parse-options.js'
import type { Db } from '../../db/db.js'
import { findCommandReport } from '../../db/commands-repository.js'
import { Errors, RainbowError } from '../../errors.js'
import { echoId } from '../../util/safe-text.js'
import { callerOf } from '../../services/company-scope.js'
import { checkCsv, storeCommandCheck, type CheckAnswer } from '../../provisioning/check.js'
import { IdSchema } from '../../schemas/common.js'
import { acceptCsvBodies, csvBody } from './csv-body.js'
import { CommandIdSchema, Flag, OneChar } from './query-schemas.js'

const CheckQuery = z.object({
  companyId: IdSchema.optional().describe('Defaults to the caller\'s company'),
  delimiter: OneChar.optional().describe('Detected among ; , TAB | from the header line when absent'),
  comment: OneChar.optional().describe('Comment character, default %'),
  nostrict: Flag.optional().describe('Plan create of an existing user as an update (and count it as one), delete of a missing one as a warning'),
  plan: Flag.optional().describe('false leaves the per-line plan out of the answer (a 5 MB file answers about half as much); default true'),
})

const REFUSED = new Set([400, 413, 415])

const ANSWER = `Answers \`{"data": {reqId, mode, actions, columns, delimiter, profiles, errors, plan}}\` once the whole file is read
(a file-level error anywhere is a 400). Beyond the portal's fields: \`errors\` lists every line error
\`{lineNumber, column?, code, message}\` in line order; \`plan\` has one entry per data line in file order:
\`{lineNumber, action, loginEmail, outcome, status, userId?, set?, changes?, device?, errorCode?, errorMsg?}\`,
outcome one of create, update, unchanged, delete, attach, force_attach, detach, error; status success, warning or failed.
A create lists the fields the new user would get by name in \`set\` (e.g. ["firstName", "phoneNumbers", "password"]);
an update or unchanged line gives \`changes\`: each field that would change as \`{from, to}\` (old → new), a password
only as \`{"from": "hidden", "to": "changed"}\`; \`device\` says what happens to the line's phone numbers. No value of a password
is ever echoed. \`actions\` counts the lines that would not fail, in user mode by what their plan does (a create that
nostrict plans as an update counts as an update). With \`plan=false\` the answer has no \`plan\`.
\`deletionSafeguard\` = \`{deletions, companyUsers, maxDeletePercent, confirmationRequired}\`: the lines that would delete a live user
of the company (outcome delete), its live users now, the server's MAX_DELETE_PERCENT, and whether importing this file needs
\`confirmDeletes=<deletions>\` (deletions over maxDeletePercent % of companyUsers; without it the import is a 409 with errorDetailsCode 409630).`

/** The answer is streamed from its serialised pieces: as one string it would be a copy of them all. */
function send (reply: FastifyReply, answer: CheckAnswer): FastifyReply {
  return reply.type('application/json; charset=utf-8').header('content-length', answer.byteLength).send(answer.stream())
}

const checks: FastifyPluginAsyncZod<{ db: Db, lineThreads: LineThreads | undefined, maxDeletePercent: number }> = async (app, opts) => {
  acceptCsvBodies(app)

  const plainChecks = [
    ['/users/imports/check', 'import', 'Check a user or device CSV (dry run: every error and what each line would do)', ANSWER],
    ['/users/imports/rainbowvoice/check', 'rainbowvoice', 'Check a Rainbow Voice CSV (dry run, mode rainbowvoice: actions upsert, delete, detach)',
      `${ANSWER}\nA rainbowvoice line's \`voice\` lists what it takes (\`attached\`) and frees (\`detached\`) in the company's Cloud PBX: \`subscriber 8001\`, \`device aa:bb:cc:dd:ee:01\`, \`DDI +33298300501\`, \`service Enterprise Demo\` (a licence).`],
  ] as const
  for (const [path, endpoint, summary, description] of plainChecks) {
    app.post(path, {
      schema: { summary, description, tags: ['massprovisioning'], querystring: CheckQuery },
      config: { checkSlot: true },
    }, async (request, reply) => {
      const companyId = await app.companyScope.resolve(request.auth!.user, request.query.companyId)
      const { delimiter, comment, nostrict, plan } = request.query
      const caller = callerOf(request.auth!.user)
      return send(reply, await checkCsv(opts.db, { companyId, endpoint, body: csvBody(request.body), delimiter, comment, nostrict: nostrict ?? false, caller, lineThreads: opts.lineThreads, withPlan: plan, maxDeletePercent: opts.maxDeletePercent }))
    })
  }

  app.post('/users/imports/synchronize/check', {
    schema: {
      summary: 'Check a useranddevice CSV for synchronization; with commandId the report is stored and the command ends',
      description: `${ANSWER}\nWith \`commandId\`, the same answer (without the data envelope) is stored as the command's report, status failure when there is any error; a refused file stores a failure report with the error.`,
      tags: ['massprovisioning'],
      querystring: CheckQuery.extend({ commandId: CommandIdSchema.optional() }),
    },
    config: { checkSlot: true },
    // A refused request still ends the connector's command, with the reason, so it never waits
    // forever: a bad file or parameter (400, before the handler runs or from it), too large (413),
    // wrong type (415). Only for an authenticated admin of the company.
    onSend: async (request, reply, payload) => {
      if (!REFUSED.has(reply.statusCode) || !request.auth || typeof payload !== 'string') return payload
      const raw = request.query as Record<string, unknown>
      const commandId = CommandIdSchema.safeParse(raw.commandId)
      const asked = IdSchema.optional().safeParse(raw.companyId)
      if (!commandId.success || !asked.success) return payload
      const user = request.auth.user
      // A companyId outside the caller's scope names no command of theirs: nothing to end. Any other
      // failure is logged; the caller's answer stands either way.
      const companyId = await app.companyScope.resolve(user, asked.data).catch((err: unknown) => {
        if (!(err instanceof RainbowError)) request.log.error({ err, commandId: commandId.data }, 'could not resolve the company of a refused command')
        return undefined
      })
      if (companyId === undefined) return payload
      const command = { commandId: commandId.data, requesterId: user.id, requesterJid: user.jidIm }
      await storeCommandCheck(opts.db, companyId, command, 'failure', { error: JSON.parse(payload) as unknown })
      return payload
    },
  }, async (request, reply) => {
    const user = request.auth!.user
    const companyId = await app.companyScope.resolve(user, request.query.companyId)
    const { delimiter, comment, nostrict, commandId, plan } = request.query
    const command = commandId ? { commandId, requesterId: user.id, requesterJid: user.jidIm } : undefined
    const body = csvBody(request.body)
    return send(reply, await checkCsv(opts.db, { companyId, endpoint: 'synchronize', body, delimiter, comment, nostrict: nostrict ?? false, caller: callerOf(user), command, lineThreads: opts.lineThreads, withPlan: plan, maxDeletePercent: opts.maxDeletePercent }))
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
    if (!found) throw Errors.notFound(`Command ${echoId(request.params.commandId)}`)
    return { status: found.status, report: found.report }
  })
}

export default checks
