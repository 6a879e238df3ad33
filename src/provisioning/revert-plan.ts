import type { NumberNow, UserNow } from '../db/revert-repository.js'
import { PlanCodes } from './codes.js'
import { sameValue } from './fields.js'
import { LineFailure } from './line-failure.js'
import type { Caller, DevicePlan, Op, Outcome, PlanEntry } from './plan.js'
import type { FieldChanges } from './fields.js'
import type { LineUndo, NumberImage, NumberState, UserImage } from './undo.js'

/** One line of a revert: the line it undoes (its number, action and user as in the file) and that line's before-image. */
export interface RevertLine { lineNumber: number, action: string, loginEmail: string, undo: LineUndo | null }

/** What planning revert lines must know of the database (loadUndoState, liveEmailOwners). */
export interface RevertState {
  users: readonly UserNow[]
  numbers: readonly NumberNow[]
  /** The login e-mails asked for (revertReads) and the live user holding each now, if any. */
  emails: readonly string[]
  owners: ReadonlyMap<string, string>
}

/** What to read before planning these lines: every user and number their images name, the e-mails of users to bring back. */
export function revertReads (lines: readonly RevertLine[]): { userIds: string[], numberIds: string[], loginEmails: string[] } {
  const users = new Set<string>()
  const numbers = new Set<string>()
  const emails = new Set<string>()
  for (const line of lines) {
    if (!line.undo || 'irreversible' in line.undo) continue
    for (const u of line.undo.users) {
      users.add(u.id)
      if (u.live.from && !u.live.to) emails.add(u.loginEmail)
    }
    for (const n of line.undo.numbers) {
      numbers.add(n.id)
      for (const holder of [n.from.userId, n.to.userId]) if (holder) users.add(holder)
    }
  }
  return { userIds: [...users], numberIds: [...numbers], loginEmails: [...emails] }
}

const label = (n: NumberNow) => `${n.pbxId}/${n.shortNumber}`
const sameNumber = (a: NumberState, b: NumberState) => a.userId === b.userId && a.internalNumber === b.internalNumber && a.number === b.number

/**
 * Plans the lines of a revert (issue 18), pure like plan.ts: each line puts back what its line
 * changed, where the database still holds what that line left; a value changed since (by a later
 * import or by hand), a login e-mail taken meanwhile, a number held by someone else now fail the line
 * with a code of their own, and the other lines go on. A line whose users and numbers are already as
 * its line found them changes nothing (`unchanged`). Lines come last line first; each sees the effect
 * of the lines planned before it, and D12 applies as to any line.
 */
export class RevertPlanner {
  private readonly users = new Map<string, UserNow>()
  private readonly numbers = new Map<string, NumberNow>()
  private readonly owners = new Map<string, string | null>()
  /** The password hash each line puts back, by line number (the apply reads it as a line's hash). */
  readonly hashes = new Map<number, string>()

  constructor (private readonly opts: { companyId: string, caller: Caller }) {}

  /** More of the database; what planning already changed wins. */
  add (state: RevertState): void {
    for (const u of state.users) if (!this.users.has(u.id)) this.users.set(u.id, { ...u })
    for (const n of state.numbers) if (!this.numbers.has(n.id)) this.numbers.set(n.id, { ...n })
    for (const e of state.emails) if (!this.owners.has(e)) this.owners.set(e, state.owners.get(e) ?? null)
  }

  plan (line: RevertLine): PlanEntry {
    const base = { lineNumber: line.lineNumber, action: line.action, loginEmail: line.loginEmail }
    try {
      return { ...base, ...this.line(line) }
    } catch (err) {
      if (!(err instanceof LineFailure)) throw err
      return { ...base, outcome: 'error', status: 'failed', errorCode: err.code, errorMsg: err.message, ops: [] }
    }
  }

  private line (line: RevertLine): Omit<PlanEntry, 'lineNumber' | 'action' | 'loginEmail'> {
    const { caller } = this.opts
    if (caller.rank < 0) throw new LineFailure(PlanCodes.outsideCallerRights, 'the administrator who asked for this revert no longer has the rights to apply it')
    if (!line.undo) throw new LineFailure(PlanCodes.revertNotReversible, 'this line has no before-image: it cannot be undone')
    if ('irreversible' in line.undo) {
      throw new LineFailure(PlanCodes.revertNotReversible, 'this line released the Rainbow Voice subscriber, SIP device or DDI of its user, which a revert does not restore')
    }
    const staged = new Staging(this.users, this.numbers, this.owners)
    const ops: Op[] = []
    const changes: FieldChanges = {}
    for (const image of line.undo.users) this.user(image, staged, ops, changes, line.lineNumber)
    const device = this.numberOps(line.undo.numbers, staged, ops)
    staged.commit()
    const outcome = outcomeOf(ops)
    return {
      outcome,
      status: 'success',
      userId: line.undo.users[0]?.id ?? line.undo.numbers.map((n) => n.from.userId ?? n.to.userId).find((id) => id !== null) ?? undefined,
      ...(Object.keys(changes).length > 0 ? { changes } : {}),
      ...(device ? { device } : {}),
      ops,
    }
  }

  private user (image: UserImage, staged: Staging, ops: Op[], changes: FieldChanges, lineNumber: number): void {
    const { companyId, caller } = this.opts
    const cur = staged.user(image.id)
    if (!cur || cur.companyId !== companyId) throw new LineFailure(PlanCodes.revertUserDeleted, `user ${image.loginEmail} no longer exists in this company`)
    if (cur.roleRank > caller.rank) throw new LineFailure(PlanCodes.outsideCallerRights, `user ${image.loginEmail} is managed by an administrator above you: you may not change it`)
    const fields = cur as unknown as Record<string, unknown>
    const live = !cur.deleted
    const at = (which: 'from' | 'to') => Object.entries(image.fields).every(([k, v]) => sameValue(fields[k] ?? null, v[which])) &&
      (!image.passwordHash || cur.passwordHash === image.passwordHash[which])
    // Already as the line found it (a revert resumed, or undone by hand): nothing to do.
    if (live === image.live.from && (!live || at('from'))) return
    if (live !== image.live.to) {
      throw image.live.to
        ? new LineFailure(PlanCodes.revertUserDeleted, `user ${image.loginEmail} was deleted since the import`)
        : new LineFailure(PlanCodes.revertValueChanged, `user ${image.loginEmail} was restored since the import`)
    }
    const back: Record<string, unknown> = {}
    let hashBack: { to: string | null } | undefined
    if (image.live.to) {
      for (const [key, { from, to }] of Object.entries(image.fields)) {
        const now = fields[key] ?? null
        if (sameValue(now, to)) back[key] = from
        // A field of a user the line created has no value to go back to: it must still hold the created one.
        else if (!image.live.from || !sameValue(now, from)) throw new LineFailure(PlanCodes.revertValueChanged, `${key} of user ${image.loginEmail} was changed since the import`)
      }
      if (image.passwordHash) {
        if (cur.passwordHash === image.passwordHash.to) hashBack = { to: image.passwordHash.from }
        else if (!image.live.from || cur.passwordHash !== image.passwordHash.from) throw new LineFailure(PlanCodes.revertValueChanged, `the password of user ${image.loginEmail} was changed since the import`)
      }
    }
    if (!image.live.from) {
      // The line created this user: the revert deletes it (D10, a soft delete).
      if (image.id === caller.id) throw new LineFailure(PlanCodes.outsideCallerRights, `${image.loginEmail} is your own account: a revert you ask for cannot delete it`)
      ops.push({ kind: 'deleteUser', userId: image.id })
      staged.setLive(cur, false)
      return
    }
    if (!image.live.to) {
      const owner = staged.owner(cur.loginEmail)
      if (owner && owner !== cur.id) throw new LineFailure(PlanCodes.revertLoginEmailTaken, `user ${image.loginEmail} cannot be restored: its login e-mail belongs to another user now`)
      ops.push({ kind: 'restoreUser', userId: cur.id, loginEmail: cur.loginEmail })
      staged.setLive(cur, true)
    }
    if (Object.keys(back).length > 0 || hashBack) {
      for (const [key, value] of Object.entries(back)) changes[key] = { from: fields[key] ?? null, to: value }
      if (hashBack) {
        changes.password = { from: 'hidden', to: 'restored' }
        if (hashBack.to !== null) this.hashes.set(lineNumber, hashBack.to)
      }
      ops.push({
        kind: 'updateUser',
        userId: cur.id,
        fields: back,
        password: hashBack?.to ? 'restored' : null,
        ...(hashBack && hashBack.to === null ? { clearPassword: true as const } : {}),
      })
      Object.assign(fields, back)
      if (hashBack) cur.passwordHash = hashBack.to
    }
  }

  private numberOps (images: readonly NumberImage[], staged: Staging, ops: Op[]): DevicePlan | undefined {
    const { companyId, caller } = this.opts
    const restored: Array<{ n: NumberNow, to: NumberState }> = []
    for (const image of images) {
      const cur = staged.number(image.id)
      if (!cur || cur.companyId !== companyId) throw new LineFailure(PlanCodes.revertNumberChanged, 'a number this line changed no longer exists in this company')
      if (sameNumber(cur, image.from)) continue
      // Who holds it now is not named: it may be a user the caller does not see (D12).
      if (!sameNumber(cur, image.to)) throw new LineFailure(PlanCodes.revertNumberChanged, `${label(cur)} was changed since the import: it is held by someone else now or its numbers changed`)
      for (const holder of [cur.userId, image.from.userId]) {
        if (holder && (staged.user(holder)?.roleRank ?? Infinity) > caller.rank) {
          throw new LineFailure(PlanCodes.outsideCallerRights, `${label(cur)} is held by, or goes back to, a user managed by an administrator above you`)
        }
      }
      if (image.from.userId) {
        const holder = staged.user(image.from.userId)
        if (!holder || holder.deleted) throw new LineFailure(PlanCodes.revertNumberChanged, `${label(cur)} cannot go back to the user who held it before the import: that user is deleted`)
      }
      ops.push({ kind: 'restoreNumber', numberId: cur.id, ...image.from })
      restored.push({ n: cur, to: image.from })
      Object.assign(cur, image.from)
    }
    if (restored.length === 0) return undefined
    const first = restored[0]!
    const freed = restored.filter((r) => r.to.userId === null).map((r) => label(r.n))
    return {
      outcome: restored.some((r) => r.to.userId !== null) ? 'attach' : 'detach',
      pbxId: first.n.pbxId,
      shortNumber: first.n.shortNumber,
      ...(freed.length > 0 ? { detached: freed } : {}),
    }
  }
}

function outcomeOf (ops: readonly Op[]): Outcome {
  const kinds = new Set(ops.map((op) => op.kind))
  if (kinds.has('deleteUser')) return 'delete'
  if (kinds.has('restoreUser')) return 'restore'
  if (kinds.has('updateUser')) return 'update'
  if (ops.some((op) => op.kind === 'restoreNumber' && op.userId !== null)) return 'attach'
  if (kinds.has('restoreNumber')) return 'detach'
  return 'unchanged'
}

/** A line's changes to the planner's state, kept apart until the line is known to succeed. */
class Staging {
  private readonly users = new Map<string, UserNow>()
  private readonly numbers = new Map<string, NumberNow>()
  private readonly owners = new Map<string, string | null>()

  constructor (
    private readonly usersNow: Map<string, UserNow>,
    private readonly numbersNow: Map<string, NumberNow>,
    private readonly ownersNow: Map<string, string | null>
  ) {}

  user (id: string): UserNow | undefined {
    let u = this.users.get(id)
    if (!u) {
      const known = this.usersNow.get(id)
      if (!known) return undefined
      this.users.set(id, u = { ...known })
    }
    return u
  }

  number (id: string): NumberNow | undefined {
    let n = this.numbers.get(id)
    if (!n) {
      const known = this.numbersNow.get(id)
      if (!known) return undefined
      this.numbers.set(id, n = { ...known })
    }
    return n
  }

  owner (loginEmail: string): string | null {
    return this.owners.has(loginEmail) ? this.owners.get(loginEmail)! : this.ownersNow.get(loginEmail) ?? null
  }

  setLive (u: UserNow, live: boolean): void {
    u.deleted = !live
    const known = this.owners.has(u.loginEmail) || this.ownersNow.has(u.loginEmail)
    // An e-mail not read yet is recorded free: a later read of the database (which still has this user) must not win.
    if (live) this.owners.set(u.loginEmail, u.id)
    else if (!known || this.owner(u.loginEmail) === u.id) this.owners.set(u.loginEmail, null)
  }

  commit (): void {
    for (const [id, u] of this.users) this.usersNow.set(id, u)
    for (const [id, n] of this.numbers) this.numbersNow.set(id, n)
    for (const [e, o] of this.owners) this.ownersNow.set(e, o)
  }
}
