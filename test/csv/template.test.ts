import { describe, expect, it } from 'vitest'
import { COLUMNS, findColumn, mandatoryColumns, templateColumns } from '../../src/csv/columns.js'
import { generateTemplate, templateFileName } from '../../src/csv/template.js'
import { ACTIONS, MODES, type EndpointKind, type Mode } from '../../src/csv/types.js'
import { parse } from './helpers.js'

const ENDPOINT: Record<Mode, EndpointKind> = { user: 'import', device: 'import', useranddevice: 'synchronize', rainbowvoice: 'rainbowvoice' }

describe('templates (D5)', () => {
  for (const mode of MODES) {
    it(`the ${mode} template parses back with zero errors, in its own mode`, async () => {
      const text = generateTemplate(mode)
      const r = await parse(text, ENDPOINT[mode])
      expect(r.mode).toBe(mode)
      expect(r.errors).toEqual([])
      expect(r.rows.length).toBeGreaterThanOrEqual(3)
      expect(r.rows.every((row) => row.valid)).toBe(true)
      expect(new Set(r.rows.map((row) => row.action))).toEqual(new Set(ACTIONS[mode]))
    })

    it(`the ${mode} template: header, samples, an empty line, then one % line per column`, () => {
      const lines = generateTemplate(mode).split('\n')
      const names = templateColumns(mode)
      expect(lines[0]).toBe(names.join(';'))
      const blank = lines.indexOf('')
      const doc = lines.slice(blank + 1, -1)
      expect(doc.every((l) => l.startsWith('%'))).toBe(true)
      for (const name of names) expect(doc.some((l) => l.startsWith(`% ${name} `)), name).toBe(true)
      expect(doc.find((l) => l.startsWith('% __action__ '))).toMatch(new RegExp(`;Mandatory +;<${ACTIONS[mode].join('\\|')}> +;Action to perform$`))
      expect(generateTemplate(mode, { commentOnly: true })).toBe(`${doc.join('\n')}\n`)
    })
  }

  it('device header is exactly the contract one, rainbowvoice follows the SDK sample', () => {
    expect(generateTemplate('device').split('\n')[0]).toBe('__action__;loginEmail;pbxId;pbxShortNumber;pbxInternalNumber;number')
    expect(generateTemplate('rainbowvoice').split('\n')[0]).toBe('__action__;loginEmail;shortNumber;macAddress;ddiE164Number;password;title;firstName;lastName;language;service0;service1')
    expect(generateTemplate('user')).toMatch(/\ncreate;alice\.johns@example\.com;This1Pwd!;Mrs;Alice;Johns;/)
    expect(generateTemplate('device')).toMatch(/\nattach;alice\.johns@example\.com;DEMO-PBX-0001;1000;/)
    expect(templateFileName('useranddevice')).toBe('useranddevice-template.csv')
  })

  it('useranddevice: every user column, then the device columns', () => {
    const names = templateColumns('useranddevice')
    expect(names.slice(0, templateColumns('user').length)).toEqual(templateColumns('user'))
    expect(names.slice(-4)).toEqual(['pbxId', 'pbxShortNumber', 'pbxInternalNumber', 'number'])
  })
})

describe('column registry', () => {
  it('matches indexed columns by pattern, n from 0, tags up to 4', () => {
    expect(findColumn('businessPhone0')).toMatchObject({ spec: { target: 'businessPhones' }, index: 0 })
    expect(findColumn('businessPhone12')?.index).toBe(12)
    expect(findColumn('tags4')?.index).toBe(4)
    for (const unknown of ['tags5', 'businessPhone01', 'businessPhone', 'service-1', 'LoginEmail']) expect(findColumn(unknown), unknown).toBeUndefined()
  })

  it('knows every column of the contract with its modes', () => {
    const modesOf = (name: string) => Object.keys(findColumn(name)?.spec.modes ?? {}).sort()
    expect(modesOf('pbxShortNumber')).toEqual(['device', 'useranddevice'])
    expect(modesOf('macAddress')).toEqual(['rainbowvoice'])
    expect(modesOf('ldap_id')).toEqual(['useranddevice'])
    expect(modesOf('firstName')).toEqual(['rainbowvoice', 'user', 'useranddevice'])
    expect(mandatoryColumns('rainbowvoice')).toEqual(['__action__', 'loginEmail', 'password'])
    expect(mandatoryColumns('device')).toEqual(['__action__', 'loginEmail'])
    for (const c of COLUMNS) expect(c.formatText.length > 0 || c.format === 'action', c.name).toBe(true)
  })
})
