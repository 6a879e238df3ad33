import { describe, expect, it } from 'vitest'
import { checkRedirectUri, RedirectUriError } from '../../src/services/redirect-uris.js'
import { grantedScope, isPkceChallenge, s256 } from '../../src/services/oauth.js'

describe('redirect URIs a client may register', () => {
  it.each([
    'https://portal.example/cb',
    'https://portal.example:8443/oauth/cb?tenant=a',
    'http://127.0.0.1:8765/cb',
    'http://[::1]:8765/cb',
    'http://localhost/cb',
  ])('accepts %s as written', (uri) => {
    expect(checkRedirectUri(`  ${uri} `)).toBe(uri)
  })

  it.each([
    ['http://portal.example/cb', /must be https/],
    ['http://127.0.0.2/cb', /must be https/],
    ['http://localhost.evil.example/cb', /must be https/],
    ['https://portal.example/cb#frag', /fragment/],
    ['https://user:pw@portal.example/cb', /credentials/],
    ['https://*.portal.example/cb', /wildcard|absolute/],
    ['https://portal.example/*', /wildcard/],
    ['javascript:alert(1)', /must be https/],
    ['/relative/cb', /absolute/],
    [`https://portal.example/${'a'.repeat(2000)}`, /2,000/],
  ])('refuses %s', (uri, why) => {
    expect(() => checkRedirectUri(uri)).toThrow(RedirectUriError)
    expect(() => checkRedirectUri(uri)).toThrow(why)
  })
})

describe('PKCE and scopes', () => {
  it('S256 matches RFC 7636 appendix B', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
    expect(isPkceChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true)
    expect(isPkceChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c')).toBe(false)
    expect(isPkceChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM')).toBe(false)
  })

  it('grants what was asked within the client\'s scopes, its whole set when nothing was asked', () => {
    const all = ['massprovisioning', 'massprovisioning:read']
    expect(grantedScope(undefined, all)).toBe('massprovisioning massprovisioning:read')
    expect(grantedScope('  ', all)).toBe('massprovisioning massprovisioning:read')
    expect(grantedScope('massprovisioning:read', all)).toBe('massprovisioning:read')
    expect(grantedScope('massprovisioning:read massprovisioning:read', all)).toBe('massprovisioning:read')
    expect(grantedScope('massprovisioning', ['massprovisioning:read'])).toBeUndefined()
    expect(grantedScope('openid', [...all, 'openid'])).toBeUndefined()
  })
})
