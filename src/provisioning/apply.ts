import type { Logger } from 'pino'
import type { Queryable } from '../db/db.js'
import { isTransientDbError, isUniqueViolation } from '../db/db.js'
import {
  attachNumbers, detachNumbers, insertProvisionedUsers, softDeleteUsers, updateProvisionedUsers, type NewProvisionedUser, type ProvisionedUserUpdate,
} from '../db/users-write-repository.js'
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
  /**
   * No savepoints: a batch the database refuses throws `BatchRefused` and the caller rolls the whole
   * transaction back, then applies the chunk again without this flag. Two statements fewer per batch
   * when nothing goes wrong, which is nearly always.
   */
  optimistic?: boolean
  /** Where refused lines are logged (with the import's reqId bound); silent when absent (tests). */
  logger?: Pick<Logger, 'warn'>
}

/** A batch failed under `optimistic`: the transaction must be rolled back. */
export class BatchRefused extends Error {}

class OpFailed extends Error {
  constructor (readonly code: number, message: string) { super(message) }
}

/**
 * Applies planned lines inside the caller's transaction, in file order as far as anyone can tell.
 * Consecutive lines that touch different users, e-mails and numbers are applied together, one
 * statement per kind of change: their order among themselves cannot matter. When such a batch fails
 * or changes fewer rows than planned (the database changed since planning), `optimistic` throws
 * `BatchRefused`; otherwise the batch, under its savepoint, is rolled back and its lines applied one
 * by one, each under its own, so that only the line that cannot be applied fails.
 */
export async function applyEntries (tx: Queryable, entries: readonly PlanEntry[], ctx: ApplyContext): Promise<LineResult[]> {
  const results: LineResult[] = new Array<LineResult>(entries.length)
  let batch: number[] = []
  const touched = new Set<string>()
  const flush = async () => {
    const done = await applyBatch(tx, batch.map((i) => entries[i]!), ctx)
    batch.forEach((i, k) => { results[i] = done[k]! })
    batch = []
    touched.clear()
  }
  for (const [i, entry] of entries.entries()) {
    if (entry.status !== 'success' || entry.ops.length === 0) {
      results[i] = { lineNumber: entry.lineNumber, userId: entry.userId ?? null, status: entry.status, errorCode: entry.errorCode ?? null, errorMsg: entry.errorMsg ?? null }
      continue
    }
    const keys = entityKeys(entry)
    if (keys.some((k) => touched.has(k))) await flush()
    batch.push(i)
    for (const k of keys) touched.add(k)
  }
  if (batch.length > 0) await flush()
  return results
}

function entityKeys (entry: PlanEntry): string[] {
  const keys = [`e:${entry.loginEmail.toLowerCase()}`]
  for (const op of entry.ops) {
    if ('userId' in op) keys.push(`u:${op.userId}`)
    if ('numberId' in op) keys.push(`n:${op.numberId}`)
    if (op.kind === 'createUser') keys.push(`e:${op.loginEmail.toLowerCase()}`)
  }
  return keys
}

const succeeded = (entry: PlanEntry): LineResult => ({ lineNumber: entry.lineNumber, userId: entry.userId ?? userOf(entry.ops), status: 'success', errorCode: null, errorMsg: null })

async function applyBatch (tx: Queryable, batch: readonly PlanEntry[], ctx: ApplyContext): Promise<LineResult[]> {
  if (ctx.optimistic) {
    let short: ShortChange
    try {
      short = await applyTogether(tx, batch, ctx)
    } catch (err) {
      if (isTransientDbError(err)) throw err
      throw new BatchRefused('a batch of lines was refused', { cause: err })
    }
    if (short) throw new BatchRefused('a batch of lines changed fewer rows than planned')
    return batch.map(succeeded)
  }
  if (batch.length > 1) {
    await tx.query('SAVEPOINT batch')
    let applied = false
    try {
      applied = await applyTogether(tx, batch, ctx) === null
    } catch (err) {
      // A refusal sends the batch down the per-line path, which names and logs the line; a
      // transient failure fails the chunk, which the job retries.
      if (isTransientDbError(err)) throw err
    }
    await tx.query(applied ? 'RELEASE SAVEPOINT batch' : 'ROLLBACK TO SAVEPOINT batch')
    if (applied) return batch.map(succeeded)
    await tx.query('RELEASE SAVEPOINT batch')
  }
  const results: LineResult[] = []
  for (const entry of batch) results.push(await applyLine(tx, entry, ctx))
  return results
}

/** The kind of change that touched fewer rows than planned, or null when every one did. */
type ShortChange = 'updateUser' | 'deleteUser' | 'detach' | 'attach' | null

/**
 * One statement per kind of change: creates first (a number references its user), detaches before
 * attaches (force_attach frees the number it takes within the same line).
 */
async function applyTogether (tx: Queryable, batch: readonly PlanEntry[], ctx: ApplyContext): Promise<ShortChange> {
  const creates: NewProvisionedUser[] = []
  const updates: ProvisionedUserUpdate[] = []
  const deletes: string[] = []
  const detaches: string[] = []
  const attaches: Array<Extract<Op, { kind: 'attach' }>> = []
  for (const entry of batch) {
    for (const op of entry.ops) {
      switch (op.kind) {
        case 'createUser': creates.push(newUser(op, entry.lineNumber, ctx)); break
        case 'updateUser': updates.push({ id: op.userId, fields: op.fields, passwordHash: op.password ? ctx.passwordHash(entry.lineNumber) : null }); break
        case 'deleteUser': deletes.push(op.userId); break
        case 'detach': detaches.push(op.numberId); break
        case 'attach': attaches.push(op)
      }
    }
  }
  await insertProvisionedUsers(tx, creates)
  if (await updateProvisionedUsers(tx, updates) !== updates.length) return 'updateUser'
  if (await softDeleteUsers(tx, deletes) !== deletes.length) return 'deleteUser'
  if (await detachNumbers(tx, detaches) !== detaches.length) return 'detach'
  if (await attachNumbers(tx, attaches) !== attaches.length) return 'attach'
  return null
}

const SHORT_FAILURES = {
  updateUser: [PlanCodes.userNotFound, 'the user was deleted meanwhile'],
  deleteUser: [PlanCodes.userNotFound, 'the user was deleted meanwhile'],
  attach: [PlanCodes.failedToAttachExtension, 'the extension could not be attached'],
  detach: [PlanCodes.failedToDetachExtension, 'the extension could not be detached'],
} as const

/**
 * One line under its own savepoint: a batch of one, whose failure is named by its code. A unique key
 * taken since planning (another import or a route created the same loginEmail meanwhile) is the
 * line's 409600; a transient failure (connection, serialization, deadlock, shutdown) is not the
 * line's fault and fails the chunk, so the job retries it.
 */
async function applyLine (tx: Queryable, entry: PlanEntry, ctx: ApplyContext): Promise<LineResult> {
  await tx.query('SAVEPOINT line')
  try {
    const short = await applyTogether(tx, [entry], ctx)
    if (short) throw new OpFailed(SHORT_FAILURES[short][0], SHORT_FAILURES[short][1])
    await tx.query('RELEASE SAVEPOINT line')
    return succeeded(entry)
  } catch (err) {
    if (isTransientDbError(err)) throw err
    await tx.query('ROLLBACK TO SAVEPOINT line')
    const failure = err instanceof OpFailed ? err : databaseRefusal(err)
    if (!(err instanceof OpFailed)) {
      // The statement's parameters (and so the line's password hash) are never logged: only the SQLSTATE and the driver's message.
      ctx.logger?.warn({ lineNumber: entry.lineNumber, dbCode: (err as { code?: string }).code, dbError: (err as Error).message, errorCode: failure.code }, 'import line refused by the database')
    }
    return { lineNumber: entry.lineNumber, userId: entry.userId ?? userOf(entry.ops), status: 'failed', errorCode: failure.code, errorMsg: failure.message }
  }
}

function databaseRefusal (err: unknown): OpFailed {
  if (isUniqueViolation(err)) return new OpFailed(PlanCodes.userAlreadyExists, 'the loginEmail was taken by another user since the file was checked')
  return new OpFailed(PlanCodes.applyFailed, 'the line could not be applied; the database refused the change')
}

function userOf (ops: readonly Op[]): string | null {
  for (const op of ops) if ('userId' in op) return op.userId
  return null
}

function newUser (op: Extract<Op, { kind: 'createUser' }>, lineNumber: number, ctx: ApplyContext): NewProvisionedUser {
  return {
    id: op.userId,
    companyId: ctx.companyId,
    loginEmail: op.loginEmail,
    passwordHash: op.password ? ctx.passwordHash(lineNumber) : null,
    jidIm: `${op.userId}@${ctx.xmppDomain}`,
    fields: op.fields,
  }
}
