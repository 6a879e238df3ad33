import { manyRows, type Queryable } from './db.js'
import { writableFieldsSelect, type WritableUserFields } from './users-write-repository.js'

/** A user as a before-image or a revert sees it: every field a line can write, and whether it is deleted. */
export type UserNow = {
  id: string
  companyId: string
  loginEmail: string
  deleted: boolean
  roleRank: number
  passwordHash: string | null
} & Required<WritableUserFields>

/** A number as a before-image or a revert sees it (attachedAt as ISO text: it travels in jsonb). */
export interface NumberNow {
  id: string
  companyId: string
  pbxId: string
  shortNumber: string
  userId: string | null
  internalNumber: string | null
  number: string | null
  attachedAt: string | null
}

/**
 * The users (deleted ones included) and numbers of these ids, as they are in this transaction. One
 * statement after the other: a transaction is one connection.
 */
export async function loadUndoState (q: Queryable, userIds: readonly string[], numberIds: readonly string[]): Promise<{ users: UserNow[], numbers: NumberNow[] }> {
  const users = userIds.length === 0
    ? []
    : await manyRows<UserNow>(q,
        `SELECT u.id, u.company_id AS "companyId", u.login_email AS "loginEmail", u.deleted_at IS NOT NULL AS deleted, u.role_rank AS "roleRank",
                u.password_hash AS "passwordHash"${writableFieldsSelect('u')}
           FROM users u WHERE u.id = ANY($1::bpchar[])`, [userIds])
  const numbers = numberIds.length === 0
    ? []
    : await manyRows<NumberNow>(q,
        `SELECT n.id, n.company_id AS "companyId", s.pbx_id AS "pbxId", n.short_number AS "shortNumber", n.user_id AS "userId",
                n.internal_number AS "internalNumber", n.number,
                to_char(n.attached_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "attachedAt"
           FROM phone_numbers n JOIN pbx_systems s ON s.id = n.system_id WHERE n.id = ANY($1::bpchar[])`, [numberIds])
  return { users, numbers }
}

/** Which live user holds each of these login e-mails now (a deleted user can come back only to a free one). */
export async function liveEmailOwners (q: Queryable, loginEmails: readonly string[]): Promise<Map<string, string>> {
  if (loginEmails.length === 0) return new Map()
  const rows = await manyRows<{ loginEmail: string, id: string }>(q,
    'SELECT login_email AS "loginEmail", id FROM users WHERE login_email = ANY($1::text[]) AND deleted_at IS NULL', [loginEmails])
  return new Map(rows.map((r) => [r.loginEmail, r.id]))
}

export interface UndoLine { seq: number, lineNumber: number, action: string, loginEmail: string | null, undo: unknown }

/** The undo of the applied lines of an import, last line first, `count` of them after `skip`. */
export async function undoPage (q: Queryable, reqId: string, skip: number, count: number): Promise<UndoLine[]> {
  return q.query<UndoLine>(
    `SELECT r.seq, l.line_number AS "lineNumber", l.action, l.login_email AS "loginEmail", r.undo
       FROM import_line_results r JOIN import_lines l ON l.req_id = r.req_id AND l.seq = r.seq
      WHERE r.req_id = $1 AND r.undo IS NOT NULL ORDER BY r.seq DESC OFFSET $2 LIMIT $3`, [reqId, skip, count])
}

export async function countUndoLines (q: Queryable, reqId: string): Promise<number> {
  const rows = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM import_line_results WHERE req_id = $1 AND undo IS NOT NULL', [reqId])
  return rows[0]?.n ?? 0
}

/**
 * The lines of a revert: one per applied line of the import it undoes, last line first (seq 0 is the
 * import's last applied line), each carrying that line's undo as its input and the original CSV text.
 */
export async function insertRevertLines (q: Queryable, revertReqId: string, revertedReqId: string): Promise<void> {
  await q.query(
    `INSERT INTO import_lines (req_id, seq, line_number, action, login_email, input, line)
     SELECT $1, (row_number() OVER (ORDER BY r.seq DESC))::int - 1, l.line_number, l.action, l.login_email,
            jsonb_build_object('valid', true, 'undo', r.undo), l.line
       FROM import_line_results r JOIN import_lines l ON l.req_id = r.req_id AND l.seq = r.seq
      WHERE r.req_id = $2 AND r.undo IS NOT NULL`, [revertReqId, revertedReqId])
}

/** The revert of this import, if any (at most one: imports_reverts). */
export async function findRevertOf (q: Queryable, reqId: string): Promise<{ reqId: string, status: string } | undefined> {
  return (await q.query<{ reqId: string, status: string }>('SELECT req_id AS "reqId", status FROM imports WHERE reverts = $1', [reqId]))[0]
}
