import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { clientErrorHandler } from '../../src/plugins/framework-errors.js'

// The socket cases a test cannot provoke cheaply on a live server: a request timeout (the server
// here sets none) and a connection already gone.

function fakeSocket (opts: { destroyed?: boolean, writable?: boolean } = {}) {
  const written: string[] = []
  let destroyedWith: unknown = null
  const socket = {
    destroyed: opts.destroyed ?? false,
    writable: opts.writable ?? true,
    write: (s: string) => { written.push(s); return true },
    destroy: (err?: unknown) => { destroyedWith = err ?? true },
  }
  return { socket: socket as unknown as Socket, written, destroyed: () => destroyedWith }
}

const instance = { log: { debug: () => undefined } } as unknown as FastifyInstance
const withCode = (code: string) => Object.assign(new Error(code), { code })

describe('clientErrorHandler', () => {
  it('a request timeout is a 408 in the envelope, then the connection closes', () => {
    const s = fakeSocket()
    clientErrorHandler.call(instance, withCode('ERR_HTTP_REQUEST_TIMEOUT'), s.socket)
    const [response] = s.written
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(response).toMatch(/\r\nConnection: close\r\n/)
    const body = response!.slice(response!.indexOf('\r\n\r\n') + 4)
    expect(JSON.parse(body)).toEqual({ errorCode: 408, errorMsg: 'Request Timeout', errorDetails: 'The request was not received in time (HEADERS_TIMEOUT or REQUEST_TIMEOUT)', errorDetailsCode: 408000 })
    expect(response).toContain(`Content-Length: ${Buffer.byteLength(body)}\r\n`)
    expect(s.destroyed()).toBeInstanceOf(Error)
  })

  it('a reset or already destroyed connection gets nothing written', () => {
    const reset = fakeSocket()
    clientErrorHandler.call(instance, withCode('ECONNRESET'), reset.socket)
    const gone = fakeSocket({ destroyed: true })
    clientErrorHandler.call(instance, withCode('HPE_HEADER_OVERFLOW'), gone.socket)
    expect([...reset.written, ...gone.written]).toEqual([])
    const unwritable = fakeSocket({ writable: false })
    clientErrorHandler.call(instance, withCode('HPE_INVALID_METHOD'), unwritable.socket)
    expect(unwritable.written).toEqual([])
    expect(unwritable.destroyed()).toBeInstanceOf(Error)
  })
})
