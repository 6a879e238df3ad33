import { z } from 'zod'
import { ACCOUNT_TYPES, AUTHENTICATION_TYPES, VISIBILITIES, findColumn, type ColumnSpec, type Format } from './columns.js'
import {
  Problem, boolean, country, email, language, macAddress, oneOf, password, pbxId, phoneShape,
  resolvePhone, shortNumber, textOf, timezone, url, type LineCountry, type Validator,
} from './formats.js'
import { LineErrorCodes, type LineErrorCode } from './line-errors.js'
import type { LineError, Mode, RowValues } from './types.js'

const VALIDATORS: Record<Format, Validator> = {
  action: (v) => v, // an invalid action fails the whole file (parse.ts), not the line
  email,
  password,
  text: textOf(255),
  tag: textOf(64),
  phone: phoneShape,
  country,
  language,
  timezone,
  visibility: oneOf(VISIBILITIES),
  accountType: oneOf(ACCOUNT_TYPES),
  authenticationType: oneOf(AUTHENTICATION_TYPES),
  boolean,
  mac: macAddress,
  shortNumber,
  pbxId,
  url,
}

/** A line as zod sees it: header name → trimmed cell. */
export type RawRow = Record<string, string>

type Ctx = z.RefinementCtx
type Cells = Record<string, unknown>

function report (ctx: Ctx, code: LineErrorCode, message: string, column?: string) {
  // No `input`: zod keeps issues free of the value unless asked (reportInput), which a password needs.
  ctx.addIssue({ code: 'custom', message, params: { code }, ...(column === undefined ? {} : { path: [column] }) })
}

const cellSchemas = new Map<ColumnSpec, z.ZodType>()

/** Empty cell → null (or `required` for __action__/loginEmail); else the format's normalised value. */
function cellSchema (spec: ColumnSpec): z.ZodType {
  let schema = cellSchemas.get(spec)
  if (schema !== undefined) return schema
  const validate = VALIDATORS[spec.format]
  schema = z.string().transform((v, ctx) => {
    if (v === '') {
      if (spec.valueRequired === true) report(ctx, LineErrorCodes.required, 'is mandatory')
      return null
    }
    const r = validate(v)
    if (r instanceof Problem) {
      report(ctx, r.code, r.message)
      return z.NEVER
    }
    return r
  })
  cellSchemas.set(spec, schema)
  return schema
}

// A cell with an error of its own is neither: the rule then adds nothing.
const empty = (o: Cells, name: string) => o[name] === null || o[name] === undefined
const filled = (o: Cells, name: string) => typeof o[name] === 'string'
const DEVICE_CELLS = ['pbxId', 'pbxInternalNumber', 'number']

/** Rules that tie a cell to the line's action (D11, contract §6 code 2018). */
function actionRule (mode: Mode): (o: Cells, ctx: Ctx) => void {
  switch (mode) {
    case 'device':
      return (o, ctx) => {
        if ((o.__action__ === 'attach' || o.__action__ === 'force_attach') && empty(o, 'pbxShortNumber')) {
          report(ctx, LineErrorCodes.required, `is needed to ${String(o.__action__)} a number`, 'pbxShortNumber')
        }
      }
    case 'useranddevice':
      return (o, ctx) => {
        if ((o.__action__ === 'upsert' || o.__action__ === 'sync') && empty(o, 'pbxShortNumber') && DEVICE_CELLS.some((c) => filled(o, c))) {
          report(ctx, LineErrorCodes.required, 'is needed to identify the number given by pbxId, pbxInternalNumber or number', 'pbxShortNumber')
        }
      }
    case 'rainbowvoice':
      return (o, ctx) => {
        if (o.__action__ === 'detach' && empty(o, 'shortNumber')) {
          report(ctx, LineErrorCodes.rvDetachWithoutShortNumber, 'is needed to detach a Rainbow Voice subscriber', 'shortNumber')
        }
      }
    case 'user':
      return () => {}
  }
}

export interface CompiledRowSchema {
  readonly mode: Mode
  /** The header, in file order; every name known in this mode. */
  readonly names: readonly string[]
  /** Input: RawRow. Output: the line's RowValues. */
  readonly schema: z.ZodType<RowValues>
}

/** Built once per header: the zod schema of its lines. Throws on a name the mode does not know (check the header first). */
export function compileRowSchema (names: readonly string[], mode: Mode): CompiledRowSchema {
  const shape: Record<string, z.ZodType> = {}
  const phones: string[] = []
  const scalars: Array<[string, string]> = []
  const lists = new Map<string, Array<{ name: string, index: number }>>()
  for (const name of names) {
    const match = findColumn(name)
    if (match === undefined || match.spec.modes[mode] === undefined) throw new Error(`Column ${name} is not accepted in mode ${mode}`)
    const { spec, index } = match
    shape[name] = cellSchema(spec)
    if (spec.format === 'phone') phones.push(name)
    if (index !== undefined) lists.set(spec.target, [...(lists.get(spec.target) ?? []), { name, index }])
    else if (spec.target !== 'action' && spec.target !== 'loginEmail') scalars.push([name, spec.target])
  }
  const members = [...lists].map(([target, cols]) => [target, cols.sort((a, b) => a.index - b.index)] as const)
  const hasCountry = names.includes('country')
  const rule = actionRule(mode)

  const refine = (o: Cells, ctx: Ctx) => {
    const lineCountry: LineCountry = !hasCountry || o.country === null ? null : typeof o.country === 'string' ? o.country : 'invalid'
    for (const name of phones) {
      const v = o[name]
      if (typeof v !== 'string') continue
      const r = resolvePhone(v, lineCountry)
      if (r instanceof Problem) report(ctx, r.code, r.message, name)
      // Normalised in place: zod runs a transform only on a valid object, but this refinement
      // runs on every line so that all its errors are reported together.
      else o[name] = r
    }
    rule(o, ctx)
  }

  const toValues = (o: Cells): RowValues => {
    const v: Cells = {}
    for (const [name, target] of scalars) v[target] = o[name]
    for (const [target, cols] of members) {
      // Sized up front: a pushed-to array reserves 17 slots, 1 KB per line over a few lists.
      const list = new Array<unknown>((cols[cols.length - 1]?.index ?? -1) + 1).fill(null)
      for (const { name, index } of cols) list[index] = o[name] ?? ''
      v[target] = list
    }
    return v as RowValues
  }

  const schema = z.object(shape).superRefine(refine, { when: () => true }).transform(toValues)
  return { mode, names: [...names], schema }
}

/** zod issues → line errors; the message names the column, never the value. */
export function issuesToLineErrors (issues: readonly z.core.$ZodIssue[], lineNumber: number): LineError[] {
  return issues.map((issue) => {
    const column = issue.path[0] === undefined ? undefined : String(issue.path[0])
    const code = (issue.code === 'custom' ? (issue.params as { code?: LineErrorCode } | undefined)?.code : undefined) ?? LineErrorCodes.invalidFormat
    const message = column === undefined ? issue.message : `${column}: ${issue.message}`
    return column === undefined ? { lineNumber, code, message } : { lineNumber, column, code, message }
  })
}
