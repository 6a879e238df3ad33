import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { setImmediate as turn } from 'node:timers/promises'
import { createDeflateRaw, createInflateRaw, inflateRawSync } from 'node:zlib'
import { createClock } from '../csv/clock.js'
import { parseCsv } from '../csv/parse.js'
import type { LineThreads } from '../csv/parse-options.js'
import type { CsvRow, EndpointKind, LineError, Mode } from '../csv/types.js'
import type { Db } from '../db/db.js'
import { upsertCommandReport } from '../db/commands-repository.js'
import { readInventoryPage } from '../db/cloudpbx-repository.js'
import { findNumbersHeldInCompany, listCompanyPbxIds } from '../db/pbx-repository.js'
import { listLiveLoginEmails, readCompanyUsersPage } from '../db/users-repository.js'
import { enqueueCommandEnded } from '../db/outbox-repository.js'
import { assessDeletions, type DeletionSafeguard } from './deletion-safeguard.js'
import { fieldsNamed } from './fields.js'
import { firstErrorByLine, Planner, type Caller, type PlanEntry } from './plan.js'
import { requestId } from './request-id.js'
import type { Profile } from './voice-plan.js'
import { loadSnapshot } from './snapshot.js'

export interface CheckRequest {
  companyId: string
  endpoint: EndpointKind
  body: Uint8Array
  delimiter?: string | undefined
  comment?: string | undefined
  nostrict: boolean
  /** Who asks: its lines may change only users it could manage (D12). */
  caller: Caller
  /** synchronize/check from a connector: the report is stored under it and the command ends (D14). */
  command?: { commandId: string, requesterId: string, requesterJid: string } | undefined
  /** Longest stretch of synchronous work between two yields to the event loop (default 5 ms). */
  budgetMs?: number | undefined
  /** Up to this many users on the server, their e-mails are read once (default LIVE_EMAILS_HELD). */
  liveEmailsHeld?: number | undefined
  /** Where the lines of a body of THREADED_BYTES or more are parsed and validated, while this thread plans. */
  lineThreads?: LineThreads | undefined
  /** Smallest body checked on `lineThreads` (default THREADED_BYTES). */
  threadedBytes?: number | undefined
  /** False leaves the per-line `plan` out of the answer (and the stored report): about half of it. */
  withPlan?: boolean | undefined
  /** MAX_DELETE_PERCENT: whether the import of this file would need confirmDeletes (`deletionSafeguard`). */
  maxDeletePercent: number
}

export interface CheckError { lineNumber: number, column?: string, code: number, message: string }

/** The §3.1 fields of the answer. */
export interface CheckHead {
  reqId: string
  mode: Mode
  actions: Record<string, number>
  columns: number
  delimiter: string
  /** rainbowvoice: every offer of the company's Cloud PBX by name; `{}` in the other modes. */
  profiles: Record<string, Profile>
  /** Beyond §3.1: what the import of this file would meet at the deletion safeguard (issue 16). */
  deletionSafeguard: DeletionSafeguard
}

/** One line of the answer's `plan`: the planner's entry without what applying it takes. */
export type CheckPlanEntry = Omit<PlanEntry, 'ops'>

/** A part of the answer's JSON: the long lists are deflated until sent, since all of it waits for the end of the file. */
type Piece = { bytes: number, deflated: false, data: Buffer } | { bytes: number, deflated: true, chunks: Buffer[] }

const plain = (text: string): Piece => {
  const data = Buffer.from(text)
  return { bytes: data.length, deflated: false, data }
}

/**
 * The answer `{"data": {...head, errors, plan}}`, held as serialised pieces: `errors` (every line
 * error, validation and planning alike, in line order) and `plan` (what each line would do) run to
 * one entry per line; as objects they cost ten times their JSON, and their JSON deflates tenfold.
 */
export class CheckAnswer {
  constructor (readonly head: CheckHead, readonly errorCount: number, private readonly pieces: readonly Piece[]) {}

  get byteLength (): number {
    return this.pieces.reduce((n, p) => n + p.bytes, 0)
  }

  /** Inflated as the socket takes it. */
  stream (): Readable {
    const { pieces } = this
    return Readable.from((async function * () {
      for (const p of pieces) {
        if (!p.deflated) yield p.data
        // Large output buffers: each is a round trip to the thread pool, and a turn of the event loop.
        else yield * Readable.from(p.chunks).pipe(createInflateRaw({ chunkSize: 256 * 1024 }))
      }
    })())
  }

  /** The whole answer as one object (the stored report of a command; tests). */
  toObject (): { data: CheckHead & { errors: CheckError[], plan?: CheckPlanEntry[] } } {
    const text = Buffer.concat(this.pieces.map((p) => p.deflated ? inflateRawSync(Buffer.concat(p.chunks)) : p.data)).toString('utf8')
    return JSON.parse(text) as ReturnType<CheckAnswer['toObject']>
  }
}

/**
 * §3.1 counter names differ from the CSV actions (READ in the SDK): create → add, delete → remove in
 * user mode. A user-mode line counts as what its plan does: a create of an existing user that
 * nostrict turns into an update counts as an update.
 */
function counterName (mode: Mode, entry: PlanEntry): string {
  const { action, outcome } = entry
  if (mode === 'user' && action === 'create') return outcome === 'update' || outcome === 'unchanged' ? 'update' : 'add'
  if (mode === 'user' && action === 'delete') return 'remove'
  return action
}

const CHECK_OPERATION = { import: 'check', synchronize: 'synchronize-check', rainbowvoice: 'rainbowvoice-check' } as const

const ZERO_COUNTERS: Record<Mode, string[]> = {
  user: ['add', 'update', 'remove'],
  device: ['attach', 'force_attach', 'detach'],
  useranddevice: ['sync', 'upsert', 'delete', 'detach'],
  rainbowvoice: ['upsert', 'delete', 'detach'],
}

/**
 * Lines planned together: one snapshot lookup each. Rows wait here for their lookup; at 2,000 lines
 * (parsed on threads, so arriving faster) they outlived the young generation and the event loop's
 * heap grew by about 100 MB during a 25 MB check, about 50 MB at 500.
 */
const PLAN_BATCH_LINES = 500
/**
 * Up to this many users on the server, the check reads every live login e-mail once and looks up
 * only the lines whose user exists: an index probe per line cost about 7 µs on PGlite, most of
 * the lookups of a file of new users. Above it, every line is probed.
 */
const LIVE_EMAILS_HELD = 200_000
/**
 * Smaller bodies are parsed on the event loop: a few batches leave little to overlap with planning,
 * and sending them costs two messages each.
 */
const THREADED_BYTES = 512 * 1024
/** Serialised JSON handed to the deflater at once. */
const PIECE_BYTES = 256 * 1024

/**
 * A real dry run: parses and validates the file, plans every line against the current database
 * exactly as the import would (the same Planner, line by line in file order), and writes nothing but
 * the command's report (when a commandId is given).
 *
 * Streamed: each batch of parsed lines is looked up, planned and serialised, then forgotten. The
 * answer is sent only once the whole file is read, since a file-level error on its last line must
 * still be a 400; until then it waits as deflated JSON, a few percent of the file's size.
 */
export async function checkCsv (db: Db, req: CheckRequest): Promise<CheckAnswer> {
  const errorsJson = new JsonList()
  const planJson = new JsonList()
  const withPlan = req.withPlan ?? true
  const clock = createClock(req.budgetMs ?? 5)
  let mode: Mode | undefined
  let actions: Record<string, number> = {}
  let errorCount = 0
  let deletions = 0
  let planner: Planner | undefined
  let live: Set<string> | undefined
  let cloudPbxExists = false
  let wholeInventory = false
  let wholeUsers = false
  let pendingRows: CsvRow[] = []
  let pendingErrors: LineError[] = []

  const planPending = async (): Promise<void> => {
    const rows = pendingRows
    const validation = pendingErrors
    pendingRows = []
    pendingErrors = []
    if (rows.length === 0 || mode === undefined) return
    const first = planner === undefined
    if (planner === undefined) {
      planner = new Planner({ users: [], numbers: [], companyPbxIds: await listCompanyPbxIds(db, req.companyId) }, { companyId: req.companyId, nostrict: req.nostrict, mode, caller: req.caller })
      const emails = await listLiveLoginEmails(db, req.liveEmailsHeld ?? LIVE_EMAILS_HELD)
      if (emails !== undefined) live = new Set(emails)
      const lines = live !== undefined || mode === 'rainbowvoice' ? countLines(req.body) : 0
      if (live !== undefined) wholeUsers = await readWholeCompany(db, req.companyId, planner, rows, lines, live)
      if (mode === 'rainbowvoice') wholeInventory = await readWholeInventory(db, req.companyId, planner, rows, lines)
    }
    const snapshot = await loadSnapshot(db, req.companyId, rows, {
      pbxs: false, live, voice: mode === 'rainbowvoice', voiceHead: first, cloudPbxExists, wholeInventory: wholeInventory ? planner : undefined, wholeUsers: wholeUsers ? planner : undefined,
    })
    if (snapshot.voice?.hasCloudPbx === true) cloudPbxExists = true
    planner.add(snapshot)
    const firstErrors = firstErrorByLine(validation)
    const planErrors: LineError[] = []
    for (const row of rows) {
      const entry = planner.plan(row, firstErrors.get(row.lineNumber))
      if (entry.outcome === 'delete') deletions++
      if (entry.status !== 'failed') {
        const key = counterName(mode, entry)
        actions[key] = (actions[key] ?? 0) + 1
      } else if (!firstErrors.has(row.lineNumber)) {
        planErrors.push({ lineNumber: entry.lineNumber, code: entry.errorCode as LineError['code'], message: entry.errorMsg ?? '' })
      }
      if (withPlan) planJson.add(entryJson(entry))
      if (clock.due()) await clock.pause()
    }
    for (const e of mergeByLine(validation, planErrors)) errorsJson.add(JSON.stringify(e))
    errorCount += validation.length + planErrors.length
  }

  let parsed: Awaited<ReturnType<typeof parseCsv>>
  try {
    parsed = await parseCsv(req.body, {
      endpoint: req.endpoint,
      delimiter: req.delimiter,
      comment: req.comment,
      budgetMs: req.budgetMs,
      pool: req.body.length >= (req.threadedBytes ?? THREADED_BYTES) ? req.lineThreads : undefined,
      keepRaw: false,
      onRows: async (rows, errors, fileMode) => {
        if (mode === undefined) {
          mode = fileMode
          actions = Object.fromEntries(ZERO_COUNTERS[fileMode].map((k) => [k, 0]))
        }
        for (const r of rows) pendingRows.push(r)
        for (const e of errors) pendingErrors.push(e)
        if (pendingRows.length >= PLAN_BATCH_LINES) await planPending()
      },
    })
    await planPending()
  } catch (err) {
    errorsJson.discard()
    planJson.discard()
    throw err
  }

  const head: CheckHead = {
    reqId: await requestId(req.companyId, CHECK_OPERATION[req.endpoint], req.body),
    mode: parsed.mode,
    actions: mode === undefined ? Object.fromEntries(ZERO_COUNTERS[parsed.mode].map((k) => [k, 0])) : actions,
    columns: parsed.columns,
    delimiter: parsed.delimiter,
    profiles: parsed.mode === 'rainbowvoice' && planner ? planner.profiles() : {},
    deletionSafeguard: await assessDeletions(db, req.companyId, deletions, req.maxDeletePercent),
  }
  const open = JSON.stringify({ data: head }).slice(0, -2) // without the closing "}}"
  const answer = new CheckAnswer(head, errorCount, withPlan
    ? [plain(`${open},"errors":[`), await errorsJson.finish(), plain('],"plan":['), await planJson.finish(), plain(']}}')]
    : [plain(`${open},"errors":[`), await errorsJson.finish(), plain(']}}')])
  if (!withPlan) planJson.discard()
  if (req.command) await storeCommandCheck(db, req.companyId, req.command, errorCount === 0 ? 'success' : 'failure', answer.toObject().data)
  return answer
}

/**
 * Users read at once when the check reads the company's users whole (JSON rows, ~5 ms on PGlite, which
 * holds the event loop meanwhile: 2,000 took ~10 ms, and /health waited for them).
 */
const USERS_PAGE = 1_000
/** The check reads the company's live users first when there are at most this many per existing user the file is expected to name. */
const WHOLE_USERS_PER_LINE = 2
/** Rows of the company's inventory read at once when the check reads it whole (one index range scan, ~5 ms on PGlite; 10,000: ~10 ms, 8 % less in all). */
const INVENTORY_PAGE = 5_000
/**
 * The check reads the company's whole Cloud PBX inventory first when it holds at most this many
 * items per device, DDI or short number the file is expected to name: a key looked up cost about
 * 7 µs on PGlite, an item read whole well under 1 µs.
 */
const WHOLE_INVENTORY_PER_KEY = 2

/**
 * A Rainbow Voice file that names much of the company's inventory: its devices, DDIs and
 * subscribers are read once, page by page (a turn of the event loop between pages), instead of
 * per batch of lines. The file's size in keys is estimated from its first batch. Returns whether it did.
 */
async function readWholeInventory (db: Db, companyId: string, planner: Planner, first: readonly CsvRow[], lines: number): Promise<boolean> {
  let keys = 0
  for (const r of first) keys += (r.values.shortNumber ? 1 : 0) + (r.values.macAddress ? 1 : 0) + (r.values.ddiE164Number ? 1 : 0)
  const most = first.length === 0 ? 0 : Math.floor(WHOLE_INVENTORY_PER_KEY * (keys / first.length) * lines)
  if (most < 1) return false
  // No count first (a count of 100,000 rows blocked PGlite's event loop ~35 ms): read until there is
  // more than `most`, then leave the rest to the lookups (what was read stays known, and is right).
  let read = 0
  for (const table of ['voice_subscribers', 'sip_devices', 'ddi_numbers'] as const) {
    for (let after: string | undefined = ''; after !== undefined;) {
      const page = await readInventoryPage(db, companyId, table, after, INVENTORY_PAGE)
      read += page.items.length + page.subscribers.length
      // Only a page with rows says the Cloud PBX exists (they reference it).
      if (page.last !== undefined) planner.add({ users: [], numbers: [], companyPbxIds: [], voice: { hasCloudPbx: true, head: false, ranges: [], services: [], subscribers: page.subscribers, devices: table === 'sip_devices' ? page.items : [], ddis: table === 'ddi_numbers' ? page.items : [] } })
      if (read > most) return false
      after = page.last
      await turn()
    }
  }
  return true
}

/**
 * A file whose lines name many of the company's users (estimated from its first batch against the
 * live e-mails): the company's live users, with the fields the file's columns name and their
 * services, and the numbers they hold are read once, page by page, instead of per batch.
 * Returns whether it did.
 */
async function readWholeCompany (db: Db, companyId: string, planner: Planner, first: readonly CsvRow[], lines: number, live: ReadonlySet<string>): Promise<boolean> {
  let existing = 0
  for (const r of first) if (r.valid && live.has(r.loginEmail)) existing++
  const most = first.length === 0 ? 0 : Math.floor(WHOLE_USERS_PER_LINE * (existing / first.length) * lines)
  if (most < 1) return false
  // The values of every row carry every column of the file (null when empty): the first batch names them all.
  const fields = [...new Set([...fieldsNamed(first), 'services' as const])]
  // As for the inventory: no count first; past `most`, the lookups take over.
  let read = 0
  for (let after = ''; ;) {
    const users = await readCompanyUsersPage(db, companyId, after, USERS_PAGE, fields)
    planner.add({ users, numbers: [], companyPbxIds: [] })
    read += users.length
    if (read > most) return false
    await turn()
    if (users.length < USERS_PAGE) break
    after = users[users.length - 1]!.id
  }
  planner.add({ users: [], numbers: await findNumbersHeldInCompany(db, companyId), companyPbxIds: [] })
  return true
}

function countLines (body: Uint8Array): number {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  let n = 0
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) n++
  return n
}

/** The report and its command_ended notification commit together, so the connector hears once (D14). */
export async function storeCommandCheck (db: Db, companyId: string, command: NonNullable<CheckRequest['command']>, status: 'success' | 'failure', report: object): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertCommandReport(tx, {
      companyId, kind: 'check', commandId: command.commandId, status, report: report as Record<string, unknown>, reqId: null, requesterId: command.requesterId,
    })
    await enqueueCommandEnded(tx, command.requesterJid, { commandId: command.commandId, companyId, kind: 'check' })
  })
}

/**
 * One plan entry as JSON, without its ops: one JSON.stringify of a fresh object of the same keys in
 * a fixed order (undefined ones are left out). A copy without `ops` by spread or delete was the
 * largest cost of planning a 100,000-line file; building the text by hand allocated three times
 * the answer (cons strings, then a flat copy to encode them).
 * A key added to PlanEntry must be added here (test/provisioning/plan.test.ts compares the two).
 */
export function entryJson (e: PlanEntry): string {
  return JSON.stringify({
    lineNumber: e.lineNumber,
    action: e.action,
    loginEmail: e.loginEmail,
    outcome: e.outcome,
    status: e.status,
    userId: e.userId,
    set: e.set,
    changes: e.changes,
    device: e.device,
    voice: e.voice,
    errorCode: e.errorCode,
    errorMsg: e.errorMsg,
  })
}

/** Validation errors first on a line that has both kinds (a planned line never has validation errors). */
function mergeByLine (a: readonly LineError[], b: readonly LineError[]): LineError[] {
  if (b.length === 0) return a as LineError[]
  const out: LineError[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.lineNumber <= b[j]!.lineNumber)) out.push(a[i++]!)
    else out.push(b[j++]!)
  }
  return out
}

/**
 * The elements of a JSON array, already serialised, deflated as they come by one zlib stream on
 * the thread pool: one per list, since a zlib state per piece cost as much memory as the pieces.
 */
export class JsonList {
  private readonly deflater = createDeflateRaw({ level: 1 })
  private readonly chunks: Buffer[] = []
  // Each element is encoded into the piece as it comes: joining the texts first and encoding the
  // whole (one more copy of 256 KB per piece) took 30 % more time.
  private piece: Buffer = Buffer.allocUnsafe(PIECE_BYTES)
  // Pieces the deflater has read, written again: a new one each time was 36 MB of short-lived
  // memory outside the heap per 100,000-line check, which V8 collects only under pressure.
  private readonly free: Buffer[] = []
  private used = 0
  private bytes = 0
  private empty = true

  constructor () {
    this.deflater.on('data', (chunk: Buffer) => this.chunks.push(chunk))
  }

  add (json: string): void {
    // At most 3 bytes of UTF-8 per UTF-16 unit, and the comma.
    const most = 3 * json.length + 1
    if (this.used + most > this.piece.length) this.flush()
    if (most > this.piece.length) {
      this.write(Buffer.from(this.empty ? json : `,${json}`))
    } else {
      if (!this.empty) this.piece[this.used++] = 0x2c
      this.used += this.piece.write(json, this.used)
    }
    this.empty = false
  }

  async finish (): Promise<Piece> {
    this.flush()
    this.deflater.end()
    await finished(this.deflater)
    return { bytes: this.bytes, deflated: true, chunks: this.chunks }
  }

  /** A refused file: the zlib state goes now, not when collected. */
  discard (): void {
    this.deflater.destroy()
  }

  private flush (): void {
    if (this.used === 0) return
    // The deflater holds the piece until the thread pool has read it (its write callback).
    const piece = this.piece
    this.write(piece.subarray(0, this.used), () => this.free.push(piece))
    this.piece = this.free.pop() ?? Buffer.allocUnsafe(PIECE_BYTES)
    this.used = 0
  }

  private write (bytes: Buffer, done?: () => void): void {
    this.bytes += bytes.length
    this.deflater.write(bytes, done)
  }
}
