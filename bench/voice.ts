/**
 * Issue 15 items 1–2: `npm run bench -- voice [--lines N]`.
 *
 * The Rainbow Voice check against its baseline, in one process and one run, on a fresh migrated
 * PGlite: (a) checkCsv of N upserts of existing users as a useranddevice file whose user columns
 * carry the same cells (tags0, tags1, businessPhone0, service0), (b) checkCsv of the same N users as a rainbowvoice file that also names, per line, a short number,
 * a SIP device, a DDI and a service offer of the company's Cloud PBX (N of each loaded). Each is
 * warmed up once, then the best of 3 runs counts. The last line is the BENCH line: the voice
 * check may cost at most twice the plain one (its extra work is one inventory lookup per batch
 * and a few map lookups per line).
 */
import type { Db } from '../src/db/db.js'
import { migrate } from '../src/db/migrate.js'
import { openPglite } from '../src/db/pglite.js'
import { insertUser } from '../src/db/users-repository.js'
import { checkCsv } from '../src/provisioning/check.js'
import { loadCloudPbx } from '../src/services/cloudpbx-inventory.js'
import { createTenantService } from '../src/services/tenants.js'
import { newId } from '../src/util/ids.js'

const TARGET_TIME_RATIO = 2
const CALLER = { id: 'b'.repeat(24), rank: 1 }

export const mac = (i: number) => (0x020000000000 + i).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')
export const ddi = (i: number) => `+3329${String(1_000_000 + i).padStart(7, '0')}`
export const short = (i: number) => String(100_000 + i)

export async function runVoiceBench (opts: { lines: number }): Promise<void> {
  const n = opts.lines
  const db = await openPglite()
  try {
    await migrate(db)
    const { companyId } = await createTenantService({ db, xmppDomain: 'localhost' }).createCompany({ name: 'Voice Bench', organization: 'Voice Group' })
    await db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const id = newId()
        await insertUser(tx, { id, companyId, loginEmail: `user${i}@bench.example`, passwordHash: null, roles: ['user'], adminType: null, jidIm: `${id}@localhost` })
      }
      await loadCloudPbx(tx, {
        companyId,
        ranges: [{ from: short(0), to: short(n - 1) }],
        devices: Array.from({ length: n }, (_, i) => ({ macAddress: mac(i), model: null })),
        ddis: Array.from({ length: n }, (_, i) => ddi(i)),
        services: [{ name: 'Enterprise Demo', licences: n }],
      })
    })
    // The same cells in columns of the useranddevice mode (two tags and a business phone), so that
    // the ratio measures what Rainbow Voice adds (inventory lookups, planning), not cell validation.
    const plain = Buffer.from(['__action__;loginEmail;password;firstName;tags0;tags1;businessPhone0;service0',
      ...Array.from({ length: n }, (_, i) => `upsert;user${i}@bench.example;;First${i};${short(i)};${mac(i)};${ddi(i)};Enterprise Demo`)].join('\n'))
    const voice = Buffer.from(['__action__;loginEmail;password;firstName;shortNumber;macAddress;ddiE164Number;service0',
      ...Array.from({ length: n }, (_, i) => `upsert;user${i}@bench.example;;First${i};${short(i)};${mac(i)};${ddi(i)};Enterprise Demo`)].join('\n'))

    const best = async (endpoint: 'synchronize' | 'rainbowvoice', body: Buffer) => {
      const times: number[] = []
      for (let run = 0; run < 4; run++) {
        const t = performance.now()
        const answer = await checkCsv(db, { companyId, endpoint, body, nostrict: false, caller: CALLER, maxDeletePercent: 10 })
        if (answer.errorCount > 0) throw new Error(`${endpoint}: ${answer.errorCount} line errors; the bench files must plan cleanly`)
        if (run > 0) times.push(performance.now() - t)
      }
      return Math.min(...times)
    }
    const baseline = await best('synchronize', plain)
    const measured = await best('rainbowvoice', voice)
    const ratio = measured / baseline
    console.log(`baseline (useranddevice check, ${n} lines): ${baseline.toFixed(0)} ms; rainbowvoice check: ${measured.toFixed(0)} ms`)
    console.log(`BENCH voice time_ratio=${ratio.toFixed(2)} target<=${TARGET_TIME_RATIO} ${ratio <= TARGET_TIME_RATIO ? 'PASS' : 'MISS'}`)
  } finally {
    await db.close()
  }
}

/**
 * `npm run bench -- check --mode rainbowvoice`: N upsert lines, every other one of a user that exists,
 * each naming a short number, a SIP device, a DDI and a service of the company's Cloud PBX (loaded
 * with room for all of them), so the file plans without an error, as the user-mode file mostly does.
 */
export function voiceCheckFile (n: number): { text: string, existing: number[] } {
  const lines = ['__action__;loginEmail;password;firstName;lastName;shortNumber;macAddress;ddiE164Number;service0']
  for (let i = 0; i < n; i++) lines.push(`upsert;user${i}@bench.example;;First${i};Last${i};${short(i)};${mac(i)};${ddi(i)};Enterprise Demo`)
  return { text: `${lines.join('\n')}\n`, existing: Array.from({ length: Math.ceil(n / 2) }, (_, k) => 2 * k) }
}

/** The Cloud PBX and the existing users the voice check file needs. */
export async function seedVoiceCompany (db: Db, companyId: string, n: number, existing: readonly number[]): Promise<void> {
  await db.transaction(async (tx) => {
    // One statement: one insertUser per user took a minute on PGlite at 50,000 users.
    const ids = existing.map(() => newId())
    await tx.query(
      `INSERT INTO users (id, company_id, login_email, jid_im) SELECT u.id, $1, u.email, u.id || '@localhost'
       FROM unnest($2::text[], $3::text[]) AS u(id, email)`,
      [companyId, ids, existing.map((i) => `user${i}@bench.example`)])
    await loadCloudPbx(tx, {
      companyId,
      ranges: [{ from: short(0), to: short(n - 1) }],
      devices: Array.from({ length: n }, (_, i) => ({ macAddress: mac(i), model: null })),
      ddis: Array.from({ length: n }, (_, i) => ddi(i)),
      services: [{ name: 'Enterprise Demo', licences: n }],
    })
  })
}
