/**
 * Per-line result codes of planning and applying (D3 `errorCode`): the contract's device codes
 * 1001–1012 (§6, labels from the web client) and this server's user codes. Validation codes of the
 * CSV engine (30xx) are in src/csv/line-errors.ts.
 */
export const PlanCodes = {
  extensionNotLinkedToEquipment: 1001,
  extensionHasNoIdentifier: 1002,
  extensionDoesNotExist: 1003,
  nonUniqueEquipmentForExtension: 1006,
  userAlreadyAssociatedToExtension: 1007,
  extensionAssociatedToAnotherUser: 1008,
  failedToAttachExtension: 1009,
  userHasNoExtension: 1010,
  userHasTooManyExtensions: 1011,
  failedToDetachExtension: 1012,
  /** update, delete or a device action for a loginEmail with no live user in the company. */
  userNotFound: 3101,
  /**
   * D12: the line's user (or the holder of the number it takes) has a rank above the caller's, the
   * line would delete the caller's own account, or the caller lost its rights before the line ran.
   */
  outsideCallerRights: 3102,
  /** create of a loginEmail already in use (contract §6 409600 userAlreadyExist). */
  userAlreadyExists: 409600,
  /** The import was cancelled (D16) before this line was applied. */
  cancelled: 3197,
  /** The import failed as a whole (D16: retries used up, or no worker made progress) before this line was applied. */
  notApplied: 3198,
  /** The line could not be applied for a reason outside the file (a database failure). */
  applyFailed: 3199,
} as const

export type PlanCode = (typeof PlanCodes)[keyof typeof PlanCodes]
