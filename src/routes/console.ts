import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONSOLE_CLIENT_ID } from '../services/console-client.js'

export interface ConsoleOptions {
  /** The built console (vite's output): index.html and assets/. */
  root?: string
  /** What config.json tells the page: the redirect URIs it may come back to. */
  redirectUris: () => string[]
}

/** From src/routes/ (tsx) and dist/routes/ (compiled) alike, the build lands in dist/console. */
export const CONSOLE_BUILD_DIR = fileURLToPath(new URL('../../dist/console', import.meta.url))

export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

/**
 * The web console (issue 16) under /console: hashed assets cached for a year, index.html never,
 * and every answer under a CSP that allows no inline script or style. Paths that are not assets
 * get index.html (the page routes itself); a missing asset is a 404.
 */
const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const root = opts.root ?? CONSOLE_BUILD_DIR
  let index: { mtimeMs: number, html: string } | undefined

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP)
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-frame-options', 'DENY')
  })

  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/console/assets/',
    wildcard: true,
    index: false,
    decorateReply: false,
    immutable: true,
    maxAge: '365d',
    cacheControl: true,
  })

  function sendIndex (reply: FastifyReply) {
    // Read again when the file changed, so a console built after the start names its new assets.
    const file = join(root, 'index.html')
    const mtimeMs = existsSync(file) ? statSync(file).mtimeMs : undefined
    if (mtimeMs !== undefined && index?.mtimeMs !== mtimeMs) index = { mtimeMs, html: readFileSync(file, 'utf8') }
    if (mtimeMs === undefined) {
      return reply.code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (npm start builds it when it is missing).\n')
    }
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index!.html)
  }

  app.get('/console/config.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('cache-control', 'no-cache').send({ clientId: CONSOLE_CLIENT_ID, redirectUris: opts.redirectUris() })
  })
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => sendIndex(reply))
  app.get('/console/*', { schema: { hide: true } }, async (_request, reply) => sendIndex(reply))
}

export default consolePlugin
