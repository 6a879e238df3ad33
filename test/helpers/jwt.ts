import { createHmac } from 'node:crypto'

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

/** Hand-made JWTs, so the tests can present exactly the token an attacker would. */
export function craftJwt (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | null): string {
  const head = `${b64(header)}.${b64(payload)}`
  if (secret === null) return `${head}.`
  const alg = header.alg === 'HS512' ? 'sha512' : header.alg === 'HS384' ? 'sha384' : 'sha256'
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`
}
