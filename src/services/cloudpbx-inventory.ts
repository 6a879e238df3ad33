import type { Queryable } from '../db/db.js'
import { findCompany } from '../db/companies-repository.js'
import {
  addRanges, ensureCloudPbx, foreignDdis, foreignDevices, insertDdis, setServices, upsertDevices, type NumberRange,
} from '../db/cloudpbx-repository.js'
import { macAddress, Problem, resolvePhone } from '../csv/formats.js'
import { newId } from '../util/ids.js'
import { InventoryError } from './pbx-inventory.js'

const RANGE = /^(\d{1,16})-(\d{1,16})$/
const SERVICE = /^(.{1,128})=(\d{1,7})$/s
const MAX_LINES = 100_000

/** `8000-8999` (or several, comma separated): bounds of equal length, so leading zeros keep their meaning. */
export function parseRanges (specs: readonly string[]): NumberRange[] {
  return specs.flatMap((spec) => spec.split(',')).map((raw) => {
    const m = RANGE.exec(raw.trim())
    if (!m || m[1]!.length !== m[2]!.length || m[1]! > m[2]!) throw new InventoryError(`--numbering "${raw.trim()}" must be FIRST-LAST, two short numbers of the same length, the first not above the last (e.g. 8000-8999)`)
    return { from: m[1]!, to: m[2]! }
  })
}

/** `Name=count`: a service offer and its number of licences. */
export function parseServices (specs: readonly string[]): Array<{ name: string, licences: number }> {
  return specs.map((raw) => {
    const m = SERVICE.exec(raw)
    const name = m?.[1]?.trim()
    if (!m || !name) throw new InventoryError(`--service "${raw}" must be Name=count (e.g. "Enterprise Demo=50")`)
    return { name, licences: Number(m[2]) }
  })
}

/** The data lines of a small `;` or `,` separated file with a known header; `%` comments and blank lines skipped. */
function cellsOf (text: string, header: readonly string[], what: string): Array<{ line: number, cells: string[] }> {
  const out: Array<{ line: number, cells: string[] }> = []
  let headerSeen = false
  for (const [index, raw] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
    const content = raw.split('%')[0]!.trim()
    if (content === '') continue
    const cells = content.split(/[;,]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
    if (!headerSeen) {
      if (cells.join(';') !== header.join(';')) throw new InventoryError(`${what}: line ${index + 1}: the header must be ${header.join(';')}`)
      headerSeen = true
      continue
    }
    if (cells.length > header.length) throw new InventoryError(`${what}: line ${index + 1}: expected ${header.join(';')}, got ${cells.length} fields`)
    out.push({ line: index + 1, cells })
    if (out.length > MAX_LINES) throw new InventoryError(`${what}: more than ${MAX_LINES} lines`)
  }
  return out
}

function checked<T> (problems: string[], items: T[], what: string): T[] {
  if (problems.length > 0) throw new InventoryError(problems.slice(0, 50).join('\n'))
  if (items.length === 0) throw new InventoryError(`${what}: the file holds no line`)
  return items
}

/** Devices file: header `macAddress;model`; any common MAC notation, stored aa:bb:cc:dd:ee:ff. */
export function parseDevices (text: string): Array<{ macAddress: string, model: string | null }> {
  const problems: string[] = []
  const seen = new Set<string>()
  const devices: Array<{ macAddress: string, model: string | null }> = []
  for (const { line, cells } of cellsOf(text, ['macAddress', 'model'], 'devices')) {
    const mac = macAddress(cells[0] ?? '')
    if (mac instanceof Problem) problems.push(`devices: line ${line}: macAddress "${cells[0] ?? ''}" ${mac.message}`)
    else if (seen.has(mac)) problems.push(`devices: line ${line}: macAddress ${mac} appears twice`)
    else {
      seen.add(mac)
      devices.push({ macAddress: mac, model: cells[1] || null })
    }
  }
  return checked(problems, devices, 'devices')
}

/** DDI file: header `number`; E.164, a number without + read as international (D18). */
export function parseDdis (text: string): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  for (const { line, cells } of cellsOf(text, ['number'], 'ddis')) {
    const n = resolvePhone(cells[0] ?? '', null)
    if (n instanceof Problem || n === '') problems.push(`ddis: line ${line}: number "${cells[0] ?? ''}" must be E.164 (e.g. +33298300513)`)
    else if (seen.has(n)) problems.push(`ddis: line ${line}: number ${n} appears twice`)
    else seen.add(n)
  }
  return checked(problems, [...seen], 'ddis')
}

export interface CloudPbxLoad {
  companyId: string
  ranges: NumberRange[]
  devices: Array<{ macAddress: string, model: string | null }>
  ddis: string[]
  services: Array<{ name: string, licences: number }>
}

/**
 * Idempotent: creates the company's Cloud PBX if needed, adds the ranges, devices and DDIs it does
 * not have (a device's model is updated), sets each named offer's licence count. Holders are never
 * touched. A device or DDI another company owns is refused: inventory never moves between companies.
 */
export async function loadCloudPbx (q: Queryable, input: CloudPbxLoad) {
  if (!(await findCompany(q, input.companyId))) throw new InventoryError(`company ${input.companyId} does not exist`)
  const created = await ensureCloudPbx(q, input.companyId)
  const theirs = [
    ...(await foreignDevices(q, input.companyId, input.devices.map((d) => d.macAddress))).map((m) => `device ${m}`),
    ...(await foreignDdis(q, input.companyId, input.ddis)).map((n) => `DDI ${n}`),
  ]
  if (theirs.length > 0) throw new InventoryError(`owned by another company: ${theirs.slice(0, 20).join(', ')}`)
  const rangesAdded = await addRanges(q, input.companyId, input.ranges)
  const devicesAdded = await upsertDevices(q, input.companyId, input.devices.map(() => newId()), input.devices)
  const ddisAdded = await insertDdis(q, input.companyId, input.ddis.map(() => newId()), input.ddis)
  await setServices(q, input.companyId, input.services)
  return { companyId: input.companyId, cloudPbxCreated: created, rangesAdded, devicesAdded, ddisAdded, services: input.services }
}
