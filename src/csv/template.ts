import { columnDocs, templateColumns } from './columns.js'
import type { Mode } from './types.js'

const DELIMITER = ';'

const INTRO: Record<Mode, string> = {
  user: 'Use this template to create/modify/remove members of a company',
  device: 'Use this template to attach/detach PBX phone numbers to/from members of a company',
  useranddevice: 'Use this template to synchronize members of a company and their PBX phone numbers',
  rainbowvoice: 'Use this template to provision Rainbow Voice users (subscriber short number, SIP device, DDI)',
}

const RULES = (mode: Mode) => [
  'Values are separated by ; (or , TAB |). Text after an unquoted % is a comment:',
  'put a value that holds % or ; between double quotes (a quote inside it is written "").',
  `Every line has as many values as the header; an empty value leaves the field unchanged${mode === 'useranddevice' ? ' (sync clears it)' : ''}.`,
]

const ALICE = { title: 'Mrs', firstName: 'Alice', lastName: 'Johns', nickName: 'alicej', country: 'FRA', language: 'fr-FR', timezone: 'Europe/Paris' }
const ALICE_FULL = {
  ...ALICE,
  businessPhone0: '+33123456789',
  mobilePhone0: '+33601234567',
  email0: 'alice.johns@example.org',
  tags0: 'Logistics',
  jobTitle: 'Logistic',
  department: 'Operations',
  visibility: 'same_than_company',
  accountType: 'free',
  isInitialized: 'false',
  authenticationType: 'DEFAULT',
}

// Valid sample lines (the round-trip test parses every template); numbers match the demo PBX.
const SAMPLES: Record<Mode, Array<Record<string, string>>> = {
  user: [
    { __action__: 'create', loginEmail: 'alice.johns@example.com', password: 'This1Pwd!', ...ALICE_FULL },
    { __action__: 'update', loginEmail: 'eric.lasalle@example.com', jobTitle: 'Tech Support' },
    { __action__: 'delete', loginEmail: 'carol.jenkins@example.com' },
  ],
  device: [
    { __action__: 'attach', loginEmail: 'alice.johns@example.com', pbxId: 'DEMO-PBX-0001', pbxShortNumber: '1000', pbxInternalNumber: '+33900001000', number: '+33123456780' },
    { __action__: 'force_attach', loginEmail: 'eric.lasalle@example.com', pbxId: 'DEMO-PBX-0001', pbxShortNumber: '1001' },
    { __action__: 'detach', loginEmail: 'carol.jenkins@example.com' },
  ],
  useranddevice: [
    { __action__: 'upsert', loginEmail: 'alice.johns@example.com', password: 'This1Pwd!', ...ALICE_FULL, pbxId: 'DEMO-PBX-0001', pbxShortNumber: '1000' },
    { __action__: 'sync', loginEmail: 'eric.lasalle@example.com', firstName: 'Eric', lastName: 'Lasalle', pbxId: 'DEMO-PBX-0001', pbxShortNumber: '1001' },
    { __action__: 'detach', loginEmail: 'bob.martin@example.com' },
    { __action__: 'delete', loginEmail: 'carol.jenkins@example.com' },
  ],
  rainbowvoice: [
    { __action__: 'upsert', loginEmail: 'alice.johns@example.com', password: 'This1Pwd!', title: 'Mrs', firstName: 'Alice', lastName: 'Johns', language: 'fr', service0: 'Enterprise Demo' },
    { __action__: 'upsert', loginEmail: 'eric.lasalle@example.com', shortNumber: '1000', macAddress: 'aa:bb:cc:dd:ee:01', ddiE164Number: '+33123456780', password: 'This1Pwd!', title: 'Mr', firstName: 'Eric', lastName: 'Lasalle', language: 'fr', service0: 'Enterprise Demo', service1: 'Voice Enterprise 3-Year prepaid' },
    { __action__: 'detach', loginEmail: 'bob.martin@example.com', shortNumber: '1001' },
    { __action__: 'delete', loginEmail: 'carol.jenkins@example.com' },
  ],
}

/** Quoted when it holds a delimiter, quote, comment character or a space (as the SDK's sample does). */
function cell (value: string): string {
  return /[;,\t|"% ]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

/** The `%` block: one line per column of the mode's template (optionality, format, description). */
function documentation (mode: Mode): string[] {
  const rows = columnDocs(mode).map((c) => [c.name, c.optionality, c.format, c.description])
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length), ['Field', 'Optionality', 'Format'][i]?.length ?? 0) + 1)
  const line = (cols: string[]) => cols
    .map((c, i) => (i < 3 && cols[i + 1] !== undefined && cols[i + 1] !== '' ? c.padEnd(widths[i] as number) : c))
    .filter((c, i) => i < 3 || c !== '')
    .join(';')
  return [
    `% ${INTRO[mode]}`,
    ...RULES(mode).map((r) => `% ${r}`),
    '%',
    `% ${line(['Field', 'Optionality', 'Format', 'Description'])}`,
    '%',
    ...rows.map((r) => `% ${line(r)}`.trimEnd()),
  ]
}

/**
 * D5: the template of a mode, generated from the column registry that validates uploads.
 * `commentOnly` (the `comment=true` query): the `%` block alone.
 */
export function generateTemplate (mode: Mode, opts: { commentOnly?: boolean } = {}): string {
  const doc = documentation(mode)
  if (opts.commentOnly === true) return `${doc.join('\n')}\n`
  const names = templateColumns(mode)
  const samples = SAMPLES[mode].map((s) => names.map((n) => cell(s[n] ?? '')).join(DELIMITER))
  return `${[names.join(DELIMITER), ...samples, '', ...doc].join('\n')}\n`
}

/** `Content-Disposition` file name of a template (D5). */
export const templateFileName = (mode: Mode) => `${mode}-template.csv`
