import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/db.js'
import {
  claimCode, deleteFlow, findLiveFlow, findRefreshToken, insertCode, insertFamily, insertFlow,
  insertRefreshToken, markRefreshTokenUsed, revokeFamiliesOfCode, revokeFamiliesOfUser, revokeFamily, setFlowUser, type FlowRow,
} from '../db/oauth-repository.js'
import { findLiveUserById, type UserRow } from '../db/users-repository.js'
import { newId } from '../util/ids.js'
import { safeEqual, sha256Hex } from './app-credentials.js'

/** What a token may do, as the consent page says it; a token without `massprovisioning` may only read. */
export const SCOPES: Record<string, string> = {
  massprovisioning: 'check and import CSV files of users and devices, and delete import reports, as you',
  'massprovisioning:read': 'read users, phone numbers, import lists and reports, as you',
}

export const CODE_TTL_SECONDS = 60
export const FLOW_TTL_SECONDS = 600

/** RFC 6749 §5.2 / §4.1.2.1 error codes, with the HTTP status of a token-endpoint answer. */
export class OAuthError extends Error {
  constructor (readonly code: string, readonly description: string, readonly statusCode = 400) {
    super(description)
    this.name = 'OAuthError'
  }
}

export interface TokenAnswer {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  scope: string
}

export interface OAuthDeps {
  db: Db
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  issueAccessToken: (user: UserRow, grant: { clientId: string, scope: string, familyId: string }) => string
}

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

export function newOpaqueToken (): string {
  return randomBytes(32).toString('base64url')
}

export function s256 (verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

export function isPkceChallenge (value: string): boolean {
  return PKCE_CHALLENGE.test(value)
}

/** The requested scope within the client's, or the client's whole set when none is asked (RFC 6749 §3.3). */
export function grantedScope (requested: string | undefined, allowed: readonly string[]): string | undefined {
  const wanted = requested === undefined || requested.trim() === '' ? [...allowed] : requested.trim().split(/ +/)
  if (wanted.some((s) => !allowed.includes(s) || SCOPES[s] === undefined)) return undefined
  return [...new Set(wanted)].join(' ')
}

export const createOAuthService = (deps: OAuthDeps) => {
  const { db } = deps

  async function issue (user: UserRow, familyId: string, clientId: string, scope: string): Promise<TokenAnswer> {
    const refreshToken = newOpaqueToken()
    await insertRefreshToken(db, { tokenHash: sha256Hex(refreshToken), familyId, ttlSeconds: deps.refreshTokenTtlSeconds })
    return {
      access_token: deps.issueAccessToken(user, { clientId, scope, familyId }),
      token_type: 'Bearer',
      expires_in: deps.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope,
    }
  }

  async function liveUser (userId: string): Promise<UserRow> {
    const user = await findLiveUserById(db, userId)
    if (!user?.isActive) throw new OAuthError('invalid_grant', 'the user no longer exists or is inactive')
    return user
  }

  return {
    /** A new sign-in flow: the handle goes into the page's forms, the binding into the browser's cookie. */
    async startFlow (flow: Omit<FlowRow, 'bindingHash' | 'userId'>): Promise<{ handle: string, binding: string }> {
      const handle = newOpaqueToken()
      const binding = newOpaqueToken()
      await insertFlow(db, { ...flow, idHash: sha256Hex(handle), bindingHash: sha256Hex(binding), userId: null, ttlSeconds: FLOW_TTL_SECONDS })
      return { handle, binding }
    },

    /** The flow a form names, if the browser that posts it holds the flow's cookie. */
    async boundFlow (handle: string, binding: string | undefined): Promise<FlowRow | undefined> {
      if (!binding) return undefined
      const flow = await findLiveFlow(db, sha256Hex(handle))
      return flow && safeEqual(sha256Hex(binding), flow.bindingHash) ? flow : undefined
    },

    async signedIn (handle: string, userId: string): Promise<void> {
      await setFlowUser(db, sha256Hex(handle), userId)
    },

    /** Ends the flow; the code when consent was given by its first ending, else undefined. */
    async finishFlow (handle: string, flow: FlowRow, consent: boolean): Promise<string | undefined> {
      if (!(await deleteFlow(db, sha256Hex(handle))) || !consent || !flow.userId) return undefined
      const code = newOpaqueToken()
      await insertCode(db, {
        codeHash: sha256Hex(code),
        clientId: flow.clientId,
        userId: flow.userId,
        redirectUri: flow.redirectUri,
        codeChallenge: flow.codeChallenge,
        scope: flow.scope,
        ttlSeconds: CODE_TTL_SECONDS,
      })
      return code
    },

    async redeemCode (clientId: string, input: { code: string, redirectUri: string, codeVerifier: string }): Promise<TokenAnswer> {
      const codeHash = sha256Hex(input.code)
      const code = await claimCode(db, codeHash)
      if (!code || code.clientId !== clientId) throw new OAuthError('invalid_grant', 'unknown authorization code, or issued to another client')
      // RFC 6749 §4.1.2: a code used twice ends every token issued from it.
      if (code.reused) {
        await revokeFamiliesOfCode(db, codeHash)
        throw new OAuthError('invalid_grant', 'the authorization code was already used; the tokens issued from it are revoked')
      }
      if (code.expired) throw new OAuthError('invalid_grant', 'the authorization code has expired')
      if (code.redirectUri !== input.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request\'s')
      if (!PKCE_VERIFIER.test(input.codeVerifier) || !safeEqual(s256(input.codeVerifier), code.codeChallenge)) {
        throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge')
      }
      const user = await liveUser(code.userId)
      const familyId = newId()
      await insertFamily(db, { id: familyId, clientId, userId: user.id, scope: code.scope, codeHash })
      return issue(user, familyId, clientId, code.scope)
    },

    async refresh (clientId: string, input: { refreshToken: string, scope: string | undefined }): Promise<TokenAnswer> {
      const tokenHash = sha256Hex(input.refreshToken)
      const row = await findRefreshToken(db, tokenHash)
      if (!row || row.clientId !== clientId) throw new OAuthError('invalid_grant', 'unknown refresh token, or issued to another client')
      // Checked before the token is spent, so a bad scope does not cost the client its session.
      let scope = row.scope
      if (input.scope !== undefined && input.scope.trim() !== '') {
        const narrowed = grantedScope(input.scope, row.scope.split(' '))
        if (narrowed === undefined) throw new OAuthError('invalid_scope', 'a refresh may only narrow the scope granted')
        scope = narrowed
      }
      // RFC 9700 §4.14.2: a rotated refresh token presented again means one of two holders is an attacker.
      if (row.used || !(await markRefreshTokenUsed(db, tokenHash))) {
        await revokeFamily(db, row.familyId)
        throw new OAuthError('invalid_grant', 'the refresh token was already used; its whole token family is revoked')
      }
      if (row.familyRevoked) throw new OAuthError('invalid_grant', 'the refresh token was revoked')
      if (row.expired) throw new OAuthError('invalid_grant', 'the refresh token has expired')
      const user = await liveUser(row.userId)
      return issue(user, row.familyId, clientId, scope)
    },

    /** RFC 7009: a refresh token of this client ends its family; anything else is ignored. */
    async revokeRefreshToken (clientId: string, token: string): Promise<boolean> {
      const row = await findRefreshToken(db, sha256Hex(token))
      if (!row || row.clientId !== clientId) return false
      await revokeFamily(db, row.familyId)
      return true
    },

    revokeFamily: (familyId: string) => revokeFamily(db, familyId),
    revokeUser: (userId: string) => revokeFamiliesOfUser(db, userId),
  }
}

export type OAuthService = ReturnType<typeof createOAuthService>
