import type { Queryable } from '../db/db.js'
import { findCompany } from '../db/companies-repository.js'
import { findPbx, insertPbx, upsertPhoneNumbers, type NumberInput } from '../db/pbx-repository.js'
import { newId } from '../util/ids.js'

export class InventoryError extends Error {}

const SHORT = /^[0-9*#]{1,20}$/
const E164 = /^\+[1-9][0-9]{5,14}$/
const INTERNAL = /^\+?[0-9*#]{1,20}$/
const MAX_LINES = 100_000

/**
 * Reads a PBX inventory file: one number per line, `shortNumber;internalNumber;number`, `%` comments
 * and blank lines ignored, an optional header line. Every bad line is reported, with its number.
 * Split by hand, not papaparse: the cells are digits, never quoted, and physical line numbers must stay exact.
 */
export function parseInventory (text: string): NumberInput[] {
  const problems: string[] = []
  const numbers: NumberInput[] = []
  const seen = new Set<string>()
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const content = raw.split('%')[0]!.trim()
    if (content === '') continue
    const cells = content.split(';').map((c) => c.trim())
    const [shortRaw = '', internalRaw = '', numberRaw = ''] = cells
    if (numbers.length === 0 && problems.length === 0 && shortRaw === 'shortNumber') continue
    const where = `line ${index + 1}`
    if (cells.length > 3) problems.push(`${where}: expected shortNumber;internalNumber;number, got ${cells.length} fields`)
    if (!SHORT.test(shortRaw)) problems.push(`${where}: shortNumber "${shortRaw}" must be 1 to 20 digits`)
    if (internalRaw && !INTERNAL.test(internalRaw)) problems.push(`${where}: internalNumber "${internalRaw}" is not a phone number`)
    if (numberRaw && !E164.test(numberRaw)) problems.push(`${where}: number "${numberRaw}" must be E.164 (e.g. +33123456789)`)
    if (seen.has(shortRaw)) problems.push(`${where}: shortNumber ${shortRaw} appears twice`)
    seen.add(shortRaw)
    numbers.push({ shortNumber: shortRaw, internalNumber: internalRaw || null, number: numberRaw || null })
    if (numbers.length > MAX_LINES) throw new InventoryError(`more than ${MAX_LINES} numbers in one file`)
  }
  if (problems.length > 0) throw new InventoryError(problems.slice(0, 50).join('\n'))
  if (numbers.length === 0) throw new InventoryError('the file holds no phone number')
  return numbers
}

export async function loadInventory (q: Queryable, input: { companyId: string, pbxId: string, numbers: NumberInput[], name?: string }) {
  const company = await findCompany(q, input.companyId)
  if (!company) throw new InventoryError(`company ${input.companyId} does not exist`)
  const pbxId = input.pbxId.trim()
  if (!/^[\w.:-]{1,64}$/.test(pbxId)) throw new InventoryError(`pbxId "${pbxId}" must be 1 to 64 letters, digits, or . _ : -`)
  let pbx = await findPbx(q, pbxId)
  let pbxCreated = false
  if (!pbx) {
    await insertPbx(q, { id: newId(), pbxId, companyId: company.id, name: input.name ?? null })
    pbx = await findPbx(q, pbxId)
    pbxCreated = true
  }
  if (!pbx || pbx.companyId !== company.id) throw new InventoryError(`PBX ${pbxId} belongs to another company`)
  const counts = await upsertPhoneNumbers(q, pbx, input.numbers.map(() => newId()), input.numbers)
  return { pbxId, systemId: pbx.id, pbxCreated, ...counts, total: input.numbers.length }
}
