import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { Errors, RainbowError } from '../errors.js'
import { SUPERADMIN_RANK } from '../db/users-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Whether the request may read the operational details (/ready's checks, /metrics): a
     * superadmin's bearer token, or `Authorization: Bearer <METRICS_TOKEN>` for a scraper. true, or
     * the error that says why not (401 no or bad credential, 403 a user who is not a superadmin).
     */
    operatorAccess: (request: FastifyRequest, reply: FastifyReply) => Promise<true | RainbowError>
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

export default fp<{ metricsToken: string | undefined }>(async (app, opts) => {
  const expected = opts.metricsToken ? digest(opts.metricsToken) : undefined

  app.decorate('operatorAccess', async (request: FastifyRequest, reply: FastifyReply) => {
    const authorization = request.headers.authorization
    if (authorization === undefined || authorization === '') return Errors.missingCredentials()
    const presented = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]
    // Compared as digests: equal lengths whatever was sent, so the comparison time says nothing.
    if (expected && presented && timingSafeEqual(digest(presented), expected)) return true
    try {
      await app.authenticate(request, reply)
    } catch (err) {
      if (err instanceof RainbowError && err.statusCode < 500) return err
      throw err
    }
    return (request.auth?.user.roleRank ?? 0) >= SUPERADMIN_RANK ? true : Errors.operatorOnly()
  })
}, { name: 'operator-access', dependencies: ['auth'] })
