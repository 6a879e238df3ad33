import type { PhoneNumberRow } from '../db/pbx-repository.js'
import type { UserRow } from '../db/users-repository.js'

export function displayNameOf (u: Pick<UserRow, 'firstName' | 'lastName' | 'loginEmail'>): string {
  const name = [u.firstName, u.lastName].filter((p) => p && p.length > 0).join(' ')
  return name.length > 0 ? name : u.loginEmail
}

/**
 * A PBX number the user holds, as a Rainbow phoneNumbers entry (`isFromSystem`): its extension
 * (`shortNumber`), private number (`internalNumber`) and public DDI (`number`/`numberE164`, the
 * extension when there is no DDI).
 */
function systemPhone (n: PhoneNumberRow) {
  return {
    phoneNumberId: n.id,
    systemId: n.systemId,
    pbxId: n.pbxId,
    shortNumber: n.shortNumber,
    internalNumber: n.internalNumber,
    number: n.number ?? n.shortNumber,
    ...(n.number ? { numberE164: n.number } : {}),
    type: 'work' as const,
    deviceType: 'landline' as const,
    isFromSystem: true,
    isVisibleByOthers: true,
  }
}

/**
 * The public shape of a user (Rainbow field names). Whitelisted: the password hash never leaves.
 * `extensions`: the PBX numbers the user holds, listed after its own phone numbers.
 */
export function toUserView (u: UserRow, extensions: readonly PhoneNumberRow[] = []) {
  return {
    id: u.id,
    loginEmail: u.loginEmail,
    displayName: displayNameOf(u),
    firstName: u.firstName,
    lastName: u.lastName,
    nickName: u.nickName,
    title: u.title,
    jobTitle: u.jobTitle,
    department: u.department,
    companyId: u.companyId,
    companyName: u.companyName,
    organisationId: u.organizationId,
    country: u.country,
    state: u.state,
    language: u.language,
    timezone: u.timezone,
    visibility: u.visibility,
    accountType: u.accountType,
    isInitialized: u.isInitialized,
    isActive: u.isActive,
    authenticationType: u.authenticationType,
    authenticationExternalUid: u.authenticationExternalUid,
    selectedAppCustomisationTemplateName: u.selectedAppCustomisationTemplateName,
    photoUrl: u.photoUrl,
    ldap_id: u.ldapId,
    userInfo1: u.userInfo1,
    userInfo2: u.userInfo2,
    tags: u.tags,
    services: u.services,
    emails: u.emails,
    phoneNumbers: [...u.phoneNumbers, ...extensions.filter((n) => n.userId === u.id).map(systemPhone)],
    roles: u.roles,
    adminType: u.adminType,
    timeToLive: u.timeToLive,
    jid_im: u.jidIm,
    creationDate: u.createdAt.toISOString(),
    lastUpdateDate: u.updatedAt.toISOString(),
  }
}

export type UserView = ReturnType<typeof toUserView>
