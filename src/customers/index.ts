// Customers as other domains use them: who a reference names, their profile, flags, notes,
// consent and lifecycle.
export { recordConsent, type ConsentInput } from './consent.repository.ts';
export { resolveCustomers } from './customer.repository.ts';
export { normaliseRef, type CustomerRef, type NormalisedRef } from './identity.ts';
export {
  acceptedFlagWords,
  addressFlags,
  deceasedFinalMessage,
  flagFromText,
  flagMeanings,
  flagReason,
  flagsStopping,
  flagUses,
  statusFlags,
  stoppingFlag,
  type FlagMeaning,
  type FlagUse,
  type StatusFlag,
} from './flags.ts';
export {
  flagReasonSql,
  flagStopsSql,
  flaggedAgainst,
  newAddressArrived,
  settleAddressReview,
} from './flags.repository.ts';
export { changeContacts, type ContactInput, type EditNote } from './edit.repository.ts';
export { recentOrdersKept, refreshLifecycle } from './lifecycle.repository.ts';
export { mergeCustomers } from './merge.ts';
export {
  attributeTypes,
  checkAttributeTypes,
  setStatusFlags,
  upsertNotes,
  upsertProfiles,
  type AddressInput,
  type AttributeType,
  type AttributeValue,
  type NoteInput,
  type ProfileInput,
  type StatusFlagInput,
} from './profile.repository.ts';
