import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { lineOfFileError } from '../../src/csv/file-errors.js'
import { parseCsv } from '../../src/csv/parse.js'
import type { ParseOptions } from '../../src/csv/parse-options.js'
import type { EndpointKind, ParseResult } from '../../src/csv/types.js'
import { RainbowError } from '../../src/errors.js'

export const fixture = (name: string) => readFileSync(new URL(`../fixtures/csv/${name}`, import.meta.url))

/** Lines joined with LF and a final LF. */
export const csv = (...lines: string[]) => `${lines.join('\n')}\n`

export function parse (input: string | Uint8Array, endpoint: EndpointKind = 'import', options: Partial<ParseOptions> = {}): Promise<ParseResult> {
  return parseCsv(input, { endpoint, ...options })
}

export interface FileErrorSeen {
  status: number
  code: number
  line: number | undefined
  details: string
}

/** The file-level RainbowError a parse rejects with (fails the test when it resolves). */
export async function fileErrorOf (promise: Promise<unknown>): Promise<FileErrorSeen> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(err, 'expected a file-level error').toBeInstanceOf(RainbowError)
  const e = err as RainbowError
  expect(typeof e.details).toBe('string')
  return { status: e.statusCode, code: e.errorDetailsCode, line: lineOfFileError(e), details: e.details as string }
}

export const USER_HEADER = '__action__;loginEmail;password;firstName;lastName'
