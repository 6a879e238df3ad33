import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

export function deriveSecretsKey (material: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'massprov', 'application-secrets', 32))
}

export function encryptSecret (key: Buffer, secret: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':')
}

export function decryptSecret (key: Buffer, stored: string): string {
  const [version, iv, tag, body] = stored.split(':')
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('unknown secret format')
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
  decipher.setAuthTag(Buffer.from(tag, 'base64'))
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')
}

export function sha256Hex (value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

export function newSecret (): string {
  return randomBytes(32).toString('base64url')
}

export function safeEqual (a: string, b: string): boolean {
  const ba = Buffer.from(a)
  const bb = Buffer.from(b)
  return ba.length === bb.length && timingSafeEqual(ba, bb)
}

/** `Basic base64(appId:digest)` as the Rainbow SDK sends in x-rainbow-app-auth. */
export function parseAppAuthHeader (header: string): { appId: string, digest: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(header.trim())
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const sep = decoded.indexOf(':')
  if (sep <= 0) return undefined
  return { appId: decoded.slice(0, sep), digest: decoded.slice(sep + 1).toLowerCase() }
}
