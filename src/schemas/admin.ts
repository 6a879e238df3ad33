import { z } from 'zod'

const Nullable = z.string().nullable()

export const UserViewSchema = z.object({
  id: z.string(),
  loginEmail: z.string(),
  displayName: z.string(),
  firstName: Nullable,
  lastName: Nullable,
  nickName: Nullable,
  title: Nullable,
  jobTitle: Nullable,
  department: Nullable,
  companyId: z.string(),
  companyName: z.string(),
  organisationId: Nullable,
  country: Nullable,
  state: Nullable,
  language: Nullable,
  timezone: Nullable,
  visibility: Nullable,
  accountType: z.string(),
  isInitialized: z.boolean(),
  isActive: z.boolean(),
  authenticationType: Nullable,
  authenticationExternalUid: Nullable,
  selectedAppCustomisationTemplateName: Nullable,
  photoUrl: Nullable,
  ldap_id: Nullable,
  userInfo1: Nullable,
  userInfo2: Nullable,
  tags: z.array(z.string()),
  services: z.array(z.string()),
  emails: z.array(z.object({ email: z.string(), type: z.string() })),
  phoneNumbers: z.array(z.object({
    number: z.string(),
    numberE164: z.string().optional(),
    country: z.string().optional(),
    type: z.string(),
    deviceType: z.string(),
    isVisibleByOthers: z.boolean().optional(),
    isFromSystem: z.boolean().optional().describe('a PBX number the user holds (from the PBX inventory)'),
    phoneNumberId: z.string().optional(),
    systemId: z.string().optional(),
    pbxId: z.string().optional(),
    shortNumber: z.string().optional().describe('PBX extension'),
    internalNumber: Nullable.optional().describe('private number of the extension'),
  })),
  roles: z.array(z.string()),
  adminType: Nullable,
  timeToLive: z.number(),
  jid_im: z.string(),
  creationDate: z.string(),
  lastUpdateDate: z.string(),
})

export const PbxViewSchema = z.object({
  id: z.string().describe('system id'),
  pbxId: z.string(),
  companyId: z.string(),
  name: Nullable,
  phoneNumbers: z.number().describe('how many numbers the PBX inventory holds'),
  creationDate: z.string(),
})

export const PhoneNumberViewSchema = z.object({
  id: z.string(),
  pbxId: z.string(),
  systemId: z.string(),
  companyId: z.string(),
  shortNumber: z.string(),
  internalNumber: Nullable,
  number: Nullable.describe('public DDI, E.164'),
  userId: Nullable.describe('the holder, if attached'),
  attachedAt: Nullable,
})

const Holder = {
  userId: Nullable.describe('the holder; null when free, or when the holder is an administrator above the caller\'s rank (D12)'),
  loginEmail: Nullable.describe('the holder\'s login e-mail, under the same rule'),
  held: z.boolean().describe('attached to a subscriber (whoever it is)'),
  attachedAt: Nullable,
}

export const CloudPbxViewSchema = z.object({
  companyId: z.string(),
  numberingPlan: z.array(z.object({ from: z.string(), to: z.string() })).describe('short-number ranges, bounds included'),
  services: z.array(z.object({ name: z.string(), licences: z.number(), used: z.number() })).describe('service offers and their licences in use'),
  devices: z.number(),
  ddis: z.number(),
  subscribers: z.number(),
  creationDate: z.string(),
})

export const SipDeviceViewSchema = z.object({ id: z.string(), companyId: z.string(), macAddress: z.string(), model: Nullable, ...Holder })
export const DdiViewSchema = z.object({ id: z.string(), companyId: z.string(), number: z.string().describe('E.164'), ...Holder })
