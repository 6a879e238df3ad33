/**
 * Per-line validation codes of this server (D3: a report line's `errorCode`). They sit beside the
 * contract's 1001–1012 (devices) and 2001–2022 (Rainbow Voice), in a range neither uses.
 */
export const LineErrorCodes = {
  /** The line does not have the header's number of fields. */
  fieldCount: 3001,
  /** A mandatory value is empty (loginEmail, or a column the action needs). */
  required: 3002,
  /** NUL or another control character (C0, DEL, C1), line breaks inside a quoted value included. */
  controlCharacter: 3003,
  /** The same loginEmail (case-insensitive) on an earlier line of the file. */
  duplicateLogin: 3004,
  invalidEmail: 3010,
  passwordPolicy: 3011,
  invalidPhone: 3012,
  /** A number a spreadsheet turned into scientific notation (4.91234E+10). */
  scientificNotation: 3013,
  invalidCountry: 3014,
  invalidLanguage: 3015,
  invalidTimezone: 3016,
  /** accountType, visibility, authenticationType. */
  invalidEnum: 3017,
  invalidBoolean: 3018,
  invalidMacAddress: 3019,
  tooLong: 3020,
  /** Short numbers, pbxId, URLs. */
  invalidFormat: 3021,
  /** Contract §6: a Rainbow Voice detach without shortNumber. */
  rvDetachWithoutShortNumber: 2018,
} as const

export type LineErrorCode = (typeof LineErrorCodes)[keyof typeof LineErrorCodes]
