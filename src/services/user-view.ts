import type { UserRow } from '../db/users-repository.js'

export function displayNameOf (u: Pick<UserRow, 'firstName' | 'lastName' | 'loginEmail'>): string {
  const name = [u.firstName, u.lastName].filter((p) => p && p.length > 0).join(' ')
  return name.length > 0 ? name : u.loginEmail
}

/** The public shape of a user (Rainbow field names). Whitelisted: the password hash never leaves. */
export function toUserView (u: UserRow) {
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
    phoneNumbers: u.phoneNumbers,
    roles: u.roles,
    adminType: u.adminType,
    timeToLive: u.timeToLive,
    jid_im: u.jidIm,
    creationDate: u.createdAt.toISOString(),
    lastUpdateDate: u.updatedAt.toISOString(),
  }
}

export type UserView = ReturnType<typeof toUserView>
