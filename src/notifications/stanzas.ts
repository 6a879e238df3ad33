import { xml, type Element } from '@xmpp/client'
import { z } from 'zod'
import type { OwedRow } from '../db/outbox-repository.js'

/** The namespace the Rainbow SDK checks on connector management messages (contract §7, §3.5). */
export const CONFIGURATION_NS = 'jabber:iq:configuration'

/** Derived from the outbox row only, so every retry of a row carries the same id and a receiver can drop a duplicate. */
export function stanzaId (outboxId: string): string {
  return `massprov-${outboxId}`
}

const CommandEnded = z.object({ commandId: z.string().min(1).max(128) })
const ImportStatus = z.object({
  reqId: z.string().max(128),
  commandId: z.string().max(128),
  seq: z.number().int(),
  status: z.string().max(32),
  succeeded: z.number().int(),
  failed: z.number().int(),
  warnings: z.number().int(),
  total: z.number().int(),
})

export function commandEndedStanza (id: string, to: string, commandId: string): Element {
  return xml('message', { type: 'management', id, to }, xml('command_ended', { commandId, xmlns: CONFIGURATION_NS }))
}

export function importStatusStanza (id: string, to: string, p: z.infer<typeof ImportStatus>): Element {
  return xml('message', { type: 'management', id, to }, xml('import_status', {
    reqId: p.reqId,
    seq: p.seq,
    status: p.status,
    failed: p.failed,
    warnings: p.warnings,
    succeeded: p.succeeded,
    total: p.total,
    commandId: p.commandId,
    xmlns: CONFIGURATION_NS,
  }))
}

/** The stanza an outbox row owes; throws on a payload this version cannot send (the row then backs off). */
export function stanzaFor (row: Pick<OwedRow, 'id' | 'kind' | 'toJid' | 'payload'>): Element {
  const id = stanzaId(row.id)
  switch (row.kind) {
    case 'command_ended': return commandEndedStanza(id, row.toJid, CommandEnded.parse(row.payload).commandId)
    case 'import_status': return importStatusStanza(id, row.toJid, ImportStatus.parse(row.payload))
    default: throw new Error(`unknown outbox kind ${String(row.kind)}`)
  }
}
