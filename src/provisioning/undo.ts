import type { NumberNow, UserNow } from '../db/revert-repository.js'
import type { LineResult } from './apply.js'
import type { Op, PlanEntry } from './plan.js'

/** A number as a line found or left it. */
export interface NumberState { userId: string | null, internalNumber: string | null, number: string | null, attachedAt: string | null }

/** What a line did to one user: alive before and after, each field it wrote (old → new), its password hash. */
export interface UserImage {
  id: string
  loginEmail: string
  live: { from: boolean, to: boolean }
  fields: Record<string, { from: unknown, to: unknown }>
  passwordHash?: { from: string | null, to: string | null }
}

export interface NumberImage { id: string, from: NumberState, to: NumberState }

/**
 * A line's before-image, stored with its result (import_line_results.undo) in the transaction that
 * applied it: each user and number it changed, as the line found it and as it left it. `to` is what
 * a revert expects to find (anything else is a conflict), `from` what it puts back. A line that
 * changed what no revert restores (Rainbow Voice) says so instead.
 */
export type LineUndo = { users: UserImage[], numbers: NumberImage[] } | { irreversible: 'voice' }

const USER_OPS = new Set<Op['kind']>(['createUser', 'updateUser', 'deleteUser', 'restoreUser'])
const NUMBER_OPS = new Set<Op['kind']>(['attach', 'detach', 'restoreNumber'])

/** The users and numbers the ops of these lines touch: what must be read before they are applied. */
export function touchedIds (entries: readonly PlanEntry[]): { userIds: string[], numberIds: string[] } {
  const users = new Set<string>()
  const numbers = new Set<string>()
  for (const e of entries) {
    for (const op of e.ops) {
      if (USER_OPS.has(op.kind) && op.kind !== 'createUser') users.add((op as { userId: string }).userId)
      if (NUMBER_OPS.has(op.kind)) numbers.add((op as { numberId: string }).numberId)
    }
  }
  return { userIds: [...users], numberIds: [...numbers] }
}

interface UserState { loginEmail: string, live: boolean, passwordHash: string | null, fields: Record<string, unknown> }

/**
 * Replays the applied lines of a chunk, in file order, over the state read before they were applied,
 * and returns each line's before-image (undefined for a line that failed or changed nothing). The
 * lines of a chunk are applied as if one by one in file order (apply.ts), so the state a line found
 * is the state before the chunk plus the lines before it that succeeded.
 */
export function recordUndos (
  before: { users: readonly UserNow[], numbers: readonly NumberNow[] }, entries: readonly PlanEntry[], results: readonly LineResult[],
  passwordHash: (lineNumber: number) => string | null
): Array<LineUndo | undefined> {
  const users = new Map<string, UserState>()
  for (const u of before.users) {
    const { id: _id, companyId: _c, loginEmail, deleted, roleRank: _r, passwordHash: hash, ...fields } = u
    users.set(u.id, { loginEmail, live: !deleted, passwordHash: hash, fields })
  }
  const numbers = new Map<string, NumberState>()
  for (const n of before.numbers) numbers.set(n.id, { userId: n.userId, internalNumber: n.internalNumber, number: n.number, attachedAt: n.attachedAt })
  const now = new Date().toISOString()
  return entries.map((entry, i) => {
    if (results[i]!.status !== 'success' || entry.ops.length === 0) return undefined
    if (entry.ops.some((op) => !USER_OPS.has(op.kind) && !NUMBER_OPS.has(op.kind))) return { irreversible: 'voice' }
    const userImages = new Map<string, UserImage>()
    const numberImages = new Map<string, NumberImage>()
    const userImage = (id: string, state: UserState): UserImage => {
      let image = userImages.get(id)
      if (!image) userImages.set(id, image = { id, loginEmail: state.loginEmail, live: { from: state.live, to: state.live }, fields: {} })
      return image
    }
    const numberImage = (id: string): NumberImage => {
      let image = numberImages.get(id)
      if (!image) {
        const state = numbers.get(id) ?? { userId: null, internalNumber: null, number: null, attachedAt: null }
        numberImages.set(id, image = { id, from: { ...state }, to: { ...state } })
      }
      return image
    }
    for (const op of entry.ops) {
      switch (op.kind) {
        case 'createUser': {
          const state: UserState = { loginEmail: op.loginEmail, live: false, passwordHash: null, fields: {} }
          const image = userImage(op.userId, state)
          for (const [key, value] of Object.entries(op.fields)) image.fields[key] = { from: null, to: value }
          users.set(op.userId, { ...state, live: true, fields: { ...op.fields } })
          image.live.to = true
          break
        }
        case 'updateUser': {
          const state = users.get(op.userId)
          if (!state) break
          const image = userImage(op.userId, state)
          for (const [key, value] of Object.entries(op.fields as Record<string, unknown>)) {
            const earlier = image.fields[key]
            image.fields[key] = { from: earlier ? earlier.from : state.fields[key] ?? null, to: value }
            state.fields[key] = value
          }
          const hash = op.clearPassword ? null : op.password ? passwordHash(entry.lineNumber) : undefined
          if (hash !== undefined) {
            image.passwordHash = { from: image.passwordHash ? image.passwordHash.from : state.passwordHash, to: hash }
            state.passwordHash = hash
          }
          break
        }
        case 'deleteUser':
        case 'restoreUser': {
          const state = users.get(op.userId)
          if (!state) break
          userImage(op.userId, state).live.to = state.live = op.kind === 'restoreUser'
          break
        }
        case 'detach': {
          const image = numberImage(op.numberId)
          image.to = { ...image.to, userId: null, attachedAt: null }
          break
        }
        case 'attach': {
          const image = numberImage(op.numberId)
          image.to = { userId: op.userId, internalNumber: op.internalNumber, number: op.number, attachedAt: image.to.userId === op.userId ? image.to.attachedAt : now }
          break
        }
        case 'restoreNumber': {
          const image = numberImage(op.numberId)
          image.to = { userId: op.userId, internalNumber: op.internalNumber, number: op.number, attachedAt: op.attachedAt }
          break
        }
      }
    }
    for (const image of numberImages.values()) numbers.set(image.id, { ...image.to })
    return { users: [...userImages.values()], numbers: [...numberImages.values()] }
  })
}
