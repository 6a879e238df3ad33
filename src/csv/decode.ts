import { isUtf8 } from 'node:buffer'
import { fileError } from './file-errors.js'

const CHUNK_BYTES = 256 * 1024

const startsWith = (b: Uint8Array, prefix: readonly number[]) => prefix.every((byte, i) => b[i] === byte)

/**
 * D9: the body as text, without its BOM. UTF-8 with or without BOM; UTF-16 LE/BE with a BOM is
 * transcoded; anything else is a 400 (400501) naming the line of the first invalid byte.
 * UTF-8 is checked whole first (native, ~5 ms for 25 MB) so an encoding error always wins over
 * what the parser would find, then decoded in chunks so the caller can yield between them.
 */
export function * decodeChunks (bytes: Uint8Array, chunkBytes = CHUNK_BYTES): Generator<string, void, undefined> {
  if (startsWith(bytes, [0xff, 0xfe, 0, 0]) || startsWith(bytes, [0, 0, 0xfe, 0xff])) {
    throw fileError('csvInvalidFile', undefined, 'UTF-32 is not supported: save the file as UTF-8')
  }
  if (startsWith(bytes, [0xff, 0xfe])) return yield decodeUtf16(bytes, 'utf-16le')
  if (startsWith(bytes, [0xfe, 0xff])) return yield decodeUtf16(bytes, 'utf-16be')
  const body = bytes.subarray(startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0)
  // Before the UTF-8 check: ASCII in UTF-16 is valid UTF-8 (NULs included), and a fault found
  // later would blame whatever line first held a non-ASCII character.
  const utf16 = utf16WithoutBom(body)
  if (utf16 !== undefined) {
    throw fileError('csvInvalidFile', undefined, `the file is UTF-16 (${utf16}) without a byte order mark: save it as UTF-8 (or as UTF-16 with a byte order mark)`)
  }
  if (!isUtf8(body)) {
    throw fileError('csvInvalidFile', lineOfByte(body, firstInvalidUtf8(body)), 'the file is not valid UTF-8 (first invalid byte on this line): save it as UTF-8')
  }
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  for (let i = 0; i < body.length; i += chunkBytes) {
    const text = decoder.decode(body.subarray(i, i + chunkBytes), { stream: true })
    if (text !== '') yield text
  }
}

const SNIFF_BYTES = 512

/**
 * 'little-endian' or 'big-endian' when the start of the body is UTF-16 text without a BOM: a CSV
 * header is ASCII, so every other byte is NUL, and a UTF-8 CSV holds no NUL at all.
 */
function utf16WithoutBom (b: Uint8Array): 'little-endian' | 'big-endian' | undefined {
  const n = Math.min(b.length, SNIFF_BYTES) & ~1
  if (n < 4) return undefined
  let evenNul = 0
  let oddNul = 0
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0) evenNul++
    if (b[i + 1] === 0) oddNul++
  }
  const pairs = n / 2
  if (oddNul >= pairs * 0.8 && evenNul === 0) return 'little-endian'
  if (evenNul >= pairs * 0.8 && oddNul === 0) return 'big-endian'
  return undefined
}

/** The whole body as one string (small bodies, tests). */
export function decodeCsv (bytes: Uint8Array): string {
  return [...decodeChunks(bytes)].join('')
}

function decodeUtf16 (bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be'): string {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes)
  } catch {
    const lenient = new TextDecoder(encoding).decode(bytes)
    const bad = lenient.indexOf('\uFFFD')
    throw fileError('csvInvalidFile', lineOfChar(lenient, bad), `the file is not valid ${encoding.toUpperCase()} (first invalid character on this line)`)
  }
}

/** Lines end with LF, or with CR in a file that has no LF at all (as in parse.ts). */
function lineOfByte (bytes: Uint8Array, offset: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const nl = buf.includes(10) ? 10 : 13
  let line = 1
  for (let i = buf.indexOf(nl); i !== -1 && i < offset; i = buf.indexOf(nl, i + 1)) line++
  return line
}

function lineOfChar (text: string, offset: number): number {
  const nl = text.includes('\n') ? '\n' : '\r'
  let line = 1
  for (let i = text.indexOf(nl); i !== -1 && i < offset; i = text.indexOf(nl, i + 1)) line++
  return line
}

/** Offset of the first byte that starts an invalid sequence (WHATWG UTF-8 decoder rules). */
export function firstInvalidUtf8 (b: Uint8Array): number {
  let i = 0
  while (i < b.length) {
    const c = b[i] as number
    if (c < 0x80) {
      i++
      continue
    }
    const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0
    if (need === 0) return i
    // Overlong forms, surrogates and code points above U+10FFFF are excluded by the second byte.
    const lower = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80
    const upper = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]
      if (d === undefined || d < (k === 1 ? lower : 0x80) || d > (k === 1 ? upper : 0xbf)) return i
    }
    i += need + 1
  }
  return -1
}
