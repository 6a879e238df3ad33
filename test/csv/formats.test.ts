import { describe, expect, it } from 'vitest'
import { ALPHA3_TO_ALPHA2 } from '../../src/csv/countries.js'
import { Problem, boolean, country, email, language, macAddress, password, resolvePhone, timezone } from '../../src/csv/formats.js'
import { LineErrorCodes as C } from '../../src/csv/line-errors.js'

const code = (r: unknown) => (r instanceof Problem ? r.code : r)

describe('formats', () => {
  describe('phone numbers → E.164', () => {
    it('reads + numbers as international, whatever the country', () => {
      expect(resolvePhone('+33 1 23 45 67 89', 'DEU')).toBe('+33123456789')
      expect(resolvePhone('+1 (212) 555-0100', null)).toBe('+12125550100')
      expect(code(resolvePhone('+3312345678', null))).toBe(C.invalidPhone)
    })

    it('reads a number without + in the line country first (trunk prefix, 00, own calling code)', () => {
      expect(resolvePhone('01 23 45 67 89', 'FRA')).toBe('+33123456789')
      expect(resolvePhone('0033612345678', 'FRA')).toBe('+33612345678')
      expect(resolvePhone('33612345678', 'FRA')).toBe('+33612345678')
      expect(resolvePhone('3471234567', 'ITA')).toBe('+393471234567')
      // The 2018 template's numbers start with Germany's 49 and have an international length: the
      // calling code is not doubled (it was +4949123456789).
      expect(resolvePhone('49123456789', 'DEU')).toBe('+49123456789')
      expect(resolvePhone('49 123 456789', 'DEU')).toBe('+49123456789')
      expect(resolvePhone('4998765432', 'DEU')).toBe('+4998765432')
      // Another country's code is no calling code of the line's country: read as dialled there.
      expect(code(resolvePhone('49123456789', 'FRA'))).toBe(C.invalidPhone)
    })

    it('then as E.164 digits that lost their +', () => {
      expect(resolvePhone('447911123456', 'FRA')).toBe('+447911123456')
      expect(resolvePhone('33298300513', null)).toBe('+33298300513')
    })

    it('refuses a national number without a country, and skips one whose country cell is wrong', () => {
      expect(code(resolvePhone('0612345678', null))).toBe(C.invalidPhone)
      expect(resolvePhone('0612345678', 'invalid')).toBe('0612345678')
      expect(code(resolvePhone('123', 'FRA'))).toBe(C.invalidPhone)
    })
  })

  it('password policy, without the value in the message', () => {
    expect(password('This1Pwd!')).toBe('This1Pwd!')
    for (const [bad, why] of [['Sh0rt!', /8 characters/], ['nocapital1!', /capital/], ['NoDigit!!', /digit/], ['NoSpecial12', /special/], [`A1!${'x'.repeat(300)}`, /256/]] as const) {
      const r = password(bad)
      expect(r).toBeInstanceOf(Problem)
      expect((r as Problem).code).toBe(C.passwordPolicy)
      expect((r as Problem).message).toMatch(why)
      expect((r as Problem).message).not.toContain(bad)
    }
  })

  it('e-mail addresses, stored lower case', () => {
    expect(email('Alice.Johns+hr@Example.COM')).toBe('alice.johns+hr@example.com')
    for (const bad of ['alice', 'a@b', 'a b@c.com', '@example.com', 'a@-x.com']) expect(code(email(bad)), bad).toBe(C.invalidEmail)
  })

  it('booleans: true/false, 1/0, yes/no in any case', () => {
    for (const t of ['true', 'TRUE', '1', 'Yes']) expect(boolean(t)).toBe(true)
    for (const f of ['false', 'False', '0', 'no']) expect(boolean(f)).toBe(false)
    for (const bad of ['y', 'on', '2', 'vrai']) expect(code(boolean(bad))).toBe(C.invalidBoolean)
  })

  it('MAC addresses, normalised', () => {
    expect(macAddress('AA-BB-CC-DD-EE-02')).toBe('aa:bb:cc:dd:ee:02')
    expect(macAddress('aabbccddee02')).toBe('aa:bb:cc:dd:ee:02')
    expect(macAddress('AABB.CCDD.EE02')).toBe('aa:bb:cc:dd:ee:02')
    expect(macAddress('AA:BB:CC:DD:EE:02')).toBe('aa:bb:cc:dd:ee:02')
    expect(macAddress('aa:bb:cc:dd:ee:02')).toBe('aa:bb:cc:dd:ee:02')
    expect(macAddress('aa:BB:cc:dd:ee:0f')).toBe('aa:bb:cc:dd:ee:0f')
    expect(macAddress('0a1b2c3d4e5f')).toBe('0a:1b:2c:3d:4e:5f')
    for (const bad of ['aabb.ccdd.ee', 'aa.bb.cc.dd.ee.ff', 'aabb.ccdd-ee02']) expect(code(macAddress(bad))).toBe(C.invalidMacAddress)
    for (const bad of ['aa:bb:cc:dd:ee', 'aa:bb-cc:dd:ee:ff', 'gg:bb:cc:dd:ee:ff']) expect(code(macAddress(bad))).toBe(C.invalidMacAddress)
  })

  it('countries: every ISO 3166-1 alpha-3 code, any case', () => {
    expect(ALPHA3_TO_ALPHA2.size).toBe(249)
    expect(country('fra')).toBe('FRA')
    expect(ALPHA3_TO_ALPHA2.get('DEU')).toBe('DE')
    for (const bad of ['FR', 'XXX', 'UK']) expect(code(country(bad))).toBe(C.invalidCountry)
  })

  it('languages follow the contract pattern exactly', () => {
    for (const ok of ['en', 'en-US', 'fr-CA']) expect(language(ok)).toBe(ok)
    for (const bad of ['EN', 'en-us', 'en_US', 'eng']) expect(code(language(bad))).toBe(C.invalidLanguage)
  })

  it('IANA time zones, links included', () => {
    for (const ok of ['Europe/Paris', 'UTC', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta']) expect(timezone(ok)).toBe(ok)
    for (const bad of ['europe/paris', 'Paris', 'CET+1', 'Mars/Olympus']) expect(code(timezone(bad)), bad).toBe(C.invalidTimezone)
  })
})
