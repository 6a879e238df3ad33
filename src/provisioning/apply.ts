import type { Queryable } from '../db/db.js'
import { attachNumber, detachNumber, insertProvisionedUser, softDeleteUser, updateProvisionedUser } from '../db/users-write-repository.js'
import { PlanCodes } from './codes.js'
import type { Op, PlanEntry } from './plan.js'

export interface LineResult {
  lineNumber: number
  status: 'success' | 'warning' | 'failed'
  userId: string | null
  errorCode: number | null
  errorMsg: string | null
}

export interface ApplyContext {
  companyId: string
  xmppDomain: string
  /** argon2id hashes of the chunk's passwords, computed before the transaction (off the event loop). */
  passwordHash: (lineNumber: number) => string | null
}

class OpFailed extends Error {
  constructor (readonly code: number, message: string) { super(message) }
}

/**
 * Applies planned lines inside the caller's transaction. Each line runs under its own savepoint: a
 * line that fails (the database changed since planning) is rolled back alone and reported, the
 * others stand.
 */
export async function applyEntries (tx: Queryable, entries: readonly PlanEntry[], ctx: ApplyContext): Promise<LineResult[]> {
  const results: LineResult[] = []
  for (const entry of entries) {
    const base = { lineNumber: entry.lineNumber, userId: entry.userId ?? userOf(entry.ops) }
    if (entry.status !== 'success' || entry.ops.length === 0) {
      results.push({ ...base, status: entry.status, errorCode: entry.errorCode ?? null, errorMsg: entry.errorMsg ?? null })
      continue
    }
    await tx.query('SAVEPOINT line')
    try {
      for (const op of entry.ops) await applyOp(tx, op, entry.lineNumber, ctx)
      await tx.query('RELEASE SAVEPOINT line')
      results.push({ ...base, status: 'success', errorCode: null, errorMsg: null })
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT line')
      const failure = err instanceof OpFailed ? err : new OpFailed(PlanCodes.applyFailed, 'the line could not be applied; the database refused the change')
      results.push({ ...base, status: 'failed', errorCode: failure.code, errorMsg: failure.message })
    }
  }
  return results
}

function userOf (ops: readonly Op[]): string | null {
  for (const op of ops) if ('userId' in op) return op.userId
  return null
}

async function applyOp (tx: Queryable, op: Op, lineNumber: number, ctx: ApplyContext): Promise<void> {
  switch (op.kind) {
    case 'createUser':
      await insertProvisionedUser(tx, {
        id: op.userId,
        companyId: ctx.companyId,
        loginEmail: op.loginEmail,
        passwordHash: op.password ? ctx.passwordHash(lineNumber) : null,
        jidIm: `${op.userId}@${ctx.xmppDomain}`,
        fields: op.fields,
      })
      return
    case 'updateUser':
      if (!await updateProvisionedUser(tx, op.userId, op.fields, op.password ? ctx.passwordHash(lineNumber) : null)) {
        throw new OpFailed(PlanCodes.userNotFound, 'the user was deleted meanwhile')
      }
      return
    case 'deleteUser':
      if (!await softDeleteUser(tx, op.userId)) throw new OpFailed(PlanCodes.userNotFound, 'the user was deleted meanwhile')
      return
    case 'attach':
      if (!await attachNumber(tx, op.numberId, op.userId, op.internalNumber, op.number)) throw new OpFailed(PlanCodes.failedToAttachExtension, 'the extension could not be attached')
      return
    case 'detach':
      if (!await detachNumber(tx, op.numberId)) throw new OpFailed(PlanCodes.failedToDetachExtension, 'the extension could not be detached')
  }
}
