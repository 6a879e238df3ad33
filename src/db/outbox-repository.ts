import type { Queryable } from './db.js'
import { newId } from '../util/ids.js'

export interface CommandEndedPayload { commandId: string, companyId: string, kind: 'check' | 'import' | 'report' }

/** Written in the transaction that makes the notification true; the relay delivers it later (D14). */
export async function enqueueCommandEnded (q: Queryable, toJid: string, payload: CommandEndedPayload): Promise<string> {
  const id = newId()
  await q.query('INSERT INTO outbox (id, kind, to_jid, payload) VALUES ($1, $2, $3, $4::jsonb)', [id, 'command_ended', toJid, JSON.stringify(payload)])
  return id
}

export async function listOutbox (q: Queryable, kind: string): Promise<Array<{ id: string, toJid: string, payload: Record<string, unknown>, sentAt: Date | null }>> {
  return q.query('SELECT id, to_jid AS "toJid", payload, sent_at AS "sentAt" FROM outbox WHERE kind = $1 ORDER BY id', [kind])
}
