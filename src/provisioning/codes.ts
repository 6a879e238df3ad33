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
  // Rainbow Voice (contract §6, 2001–2022; 2018 is a validation code in src/csv/line-errors.ts).
  noCloudPbx: 2001,
  shortNumberNotInNumberingPlan: 2002,
  shortNumberAlreadyAssigned: 2003,
  userAlreadyInAnotherPbx: 2004,
  subscriberCreationFailed: 2005,
  subscriberUpdateFailed: 2006,
  sipDeviceNotFound: 2007,
  sipDeviceInAnotherCompany: 2008,
  sipDeviceAttachedToAnotherUser: 2009,
  anotherSipDeviceAttachedToUser: 2010,
  sipDeviceForNonSubscriber: 2011,
  sipDeviceAttachFailed: 2012,
  ddiForNonSubscriber: 2013,
  ddiNotFound: 2014,
  ddiAttachedToAnotherUser: 2015,
  anotherDdiAttachedToUser: 2016,
  ddiAttachFailed: 2017,
  subscriberNotTheUsers: 2019,
  ddiDetachForNonSubscriber: 2020,
  ddiDetachFailed: 2021,
  sipDeviceDetachFailed: 2022,
  /** A Rainbow Voice line names a service that is not an offer of the company's Cloud PBX. */
  unknownService: 3103,
  /** Contract §6 errorMaxSubscriptionReached: the offer has no licence left; the line fails, the import goes on. */
  maxSubscriptionReached: 403610,
  /** update, delete or a device action for a loginEmail with no live user in the company. */
  userNotFound: 3101,
  /**
   * D12: the line's user (or the holder of the number it takes) has a rank above the caller's, the
   * line would delete the caller's own account, or the caller lost its rights before the line ran.
   */
  outsideCallerRights: 3102,
  /** create of a loginEmail already in use (contract §6 409600 userAlreadyExist). */
  userAlreadyExists: 409600,
  // Revert of an import (issue 18, revert-plan.ts): a line of the revert that cannot undo its line.
  /** A value the line set (a field, the password, a deletion) was changed since, by a later import or by hand. */
  revertValueChanged: 3111,
  /** The user the line deleted cannot be brought back: its login e-mail is another live user's now. */
  revertLoginEmailTaken: 3112,
  /** A number the line attached or detached is held by someone else now, or was changed since (or its holder before is gone). */
  revertNumberChanged: 3113,
  /** The user the line created or updated was deleted since (or no longer exists in the company). */
  revertUserDeleted: 3114,
  /** The line changed what a revert does not restore (the Rainbow Voice subscriber, SIP device or DDI of a deleted user). */
  revertNotReversible: 3115,
  /** The import was cancelled (D16) before this line was applied. */
  cancelled: 3197,
  /** The import failed as a whole (D16: retries used up, or no worker made progress) before this line was applied. */
  notApplied: 3198,
  /** The line could not be applied for a reason outside the file (a database failure). */
  applyFailed: 3199,
} as const

export type PlanCode = (typeof PlanCodes)[keyof typeof PlanCodes]
