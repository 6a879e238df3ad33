import fp from 'fastify-plugin'
import { Errors } from '../errors.js'

/** Deeper than any report a connector sends; far below what recursive code (schemas, stringify) survives. */
export const MAX_JSON_DEPTH = 64

/** How deep the arrays and objects of a JSON text nest, stopping as soon as it passes `max`: one pass, no recursion. */
export function jsonDepthExceeds (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

/**
 * application/json bodies are refused (400) past MAX_JSON_DEPTH before they are parsed: validating
 * or serialising a value nested thousands deep overflows the stack, a 500. Otherwise Fastify's own
 * parser runs, with its prototype-poisoning protection.
 */
export default fp(async (app) => {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(Errors.badJson(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined)
    return parse(request, text, done)
  })
}, { name: 'json-body' })
