import type { Logger } from 'pino'
import type { Queryable } from '../db/db.js'
import { isTransientDbError, isUniqueViolation } from '../db/db.js'
import {
  attachNumbers, clearPasswords, detachNumbers, insertProvisionedUsers, restoreNumbers, restoreUsers, softDeleteUsers, updateProvisionedUsers,
  type NewProvisionedUser, type NumberRestore, type ProvisionedUserUpdate,
} from '../db/users-write-repository.js'
import {
  deleteSubscribers, holdDevices, insertSubscribers, releaseDevices, renumberSubscribers,
} from '../db/cloudpbx-repository.js'
import { PlanCodes } from './codes.js'
import type { Op, PlanEntry } from './plan.js'
import type { VoiceOp, VoiceTable } from './voice-plan.js'

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
    // A number a revert gives back to no one names no user.
    if ('userId' in op && op.userId !== null) keys.push(`u:${op.userId}`)
    if ('numberId' in op) keys.push(`n:${op.numberId}`)
    if ('itemId' in op) keys.push(`v:${op.itemId}`)
    if ('shortNumber' in op) keys.push(`s:${op.shortNumber}`)
    if (op.kind === 'subscribe' && op.previous !== null) keys.push(`s:${op.previous}`)
    if (op.kind === 'createUser' || op.kind === 'restoreUser') keys.push(`e:${op.loginEmail.toLowerCase()}`)
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
type ShortChange = 'updateUser' | 'deleteUser' | 'restoreUser' | 'restoreNumber' | 'detach' | 'attach' | 'subscribe' | 'renumber' | 'unsubscribe' | VoiceChange | null
type VoiceChange = `${'hold' | 'release'}:${VoiceTable}`

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
  const restores: string[] = []
  const numbers: NumberRestore[] = []
  const cleared: string[] = []
  const voice = new VoiceChanges()
  for (const entry of batch) {
    for (const op of entry.ops) {
      switch (op.kind) {
        case 'createUser': creates.push(newUser(op, entry.lineNumber, ctx)); break
        case 'updateUser':
          updates.push({ id: op.userId, fields: op.fields, passwordHash: op.password ? ctx.passwordHash(entry.lineNumber) : null })
          if (op.clearPassword) cleared.push(op.userId)
          break
        case 'deleteUser': deletes.push(op.userId); break
        case 'restoreUser': restores.push(op.userId); break
        case 'restoreNumber': numbers.push(op); break
        case 'detach': detaches.push(op.numberId); break
        case 'attach': attaches.push(op); break
        default: voice.add(op, ctx.companyId)
      }
    }
  }
  await insertProvisionedUsers(tx, creates)
  // Restored before updated: a revert may set back fields of a user it brings back.
  if (await restoreUsers(tx, restores) !== restores.length) return 'restoreUser'
  if (await updateProvisionedUsers(tx, updates) !== updates.length) return 'updateUser'
  await clearPasswords(tx, cleared)
  if (await softDeleteUsers(tx, deletes) !== deletes.length) return 'deleteUser'
  if (await detachNumbers(tx, detaches) !== detaches.length) return 'detach'
  if (await attachNumbers(tx, attaches) !== attaches.length) return 'attach'
  if (await restoreNumbers(tx, numbers) !== numbers.length) return 'restoreNumber'
  return voice.apply(tx)
}

/**
 * Rainbow Voice changes of a batch: what is released first (a line may free what the next one
 * takes), renumbered subscribers before new ones (a number one frees, another may take).
 */
class VoiceChanges {
  private readonly release: Record<VoiceTable, string[]> = { sip_devices: [], ddi_numbers: [] }
  private readonly hold: Record<VoiceTable, Array<{ id: string, userId: string }>> = { sip_devices: [], ddi_numbers: [] }
  private readonly unsubscribe: string[] = []
  private readonly renumber: Array<{ userId: string, shortNumber: string }> = []
  private readonly subscribe: Array<{ userId: string, companyId: string, shortNumber: string }> = []

  add (op: VoiceOp, companyId: string): void {
    switch (op.kind) {
      case 'release': this.release[op.table].push(op.itemId); break
      case 'hold': this.hold[op.table].push({ id: op.itemId, userId: op.userId }); break
      case 'unsubscribe': this.unsubscribe.push(op.userId); break
      case 'subscribe':
        if (op.previous === null) this.subscribe.push({ userId: op.userId, companyId, shortNumber: op.shortNumber })
        else this.renumber.push({ userId: op.userId, shortNumber: op.shortNumber })
    }
  }

  async apply (tx: Queryable): Promise<ShortChange> {
    for (const table of TABLES) if (await releaseDevices(tx, table, this.release[table]) !== this.release[table].length) return `release:${table}`
    if (await deleteSubscribers(tx, this.unsubscribe) !== this.unsubscribe.length) return 'unsubscribe'
    if (await renumberSubscribers(tx, this.renumber) !== this.renumber.length) return 'renumber'
    if (await insertSubscribers(tx, this.subscribe) !== this.subscribe.length) return 'subscribe'
    for (const table of TABLES) if (await holdDevices(tx, table, this.hold[table]) !== this.hold[table].length) return `hold:${table}`
    return null
  }
}

const TABLES = ['sip_devices', 'ddi_numbers'] as const

const SHORT_FAILURES = {
  updateUser: [PlanCodes.userNotFound, 'the user was deleted meanwhile'],
  deleteUser: [PlanCodes.userNotFound, 'the user was deleted meanwhile'],
  restoreUser: [PlanCodes.revertValueChanged, 'the user could not be restored: it was restored or changed meanwhile'],
  restoreNumber: [PlanCodes.revertNumberChanged, 'the number could not be put back'],
  attach: [PlanCodes.failedToAttachExtension, 'the extension could not be attached'],
  detach: [PlanCodes.failedToDetachExtension, 'the extension could not be detached'],
  subscribe: [PlanCodes.subscriberCreationFailed, 'the subscriber could not be created: its short number was taken meanwhile'],
  renumber: [PlanCodes.subscriberUpdateFailed, 'the subscriber could not be updated'],
  unsubscribe: [PlanCodes.subscriberUpdateFailed, 'the subscriber could not be released'],
  'hold:sip_devices': [PlanCodes.sipDeviceAttachFailed, 'the SIP device could not be attached'],
  'hold:ddi_numbers': [PlanCodes.ddiAttachFailed, 'the DDI could not be attached'],
  'release:sip_devices': [PlanCodes.sipDeviceDetachFailed, 'the SIP device could not be detached'],
  'release:ddi_numbers': [PlanCodes.ddiDetachFailed, 'the DDI could not be detached'],
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
