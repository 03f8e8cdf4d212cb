// Customers as other domains use them: who a reference names, their profile, flags, notes,
// consent and lifecycle.
import type { normaliseRef } from './identity.ts';

export { recordConsent, type ConsentInput } from './consent.repository.ts';
export { resolveCustomers } from './customer.repository.ts';
export { normaliseRef, type NormalisedRef } from './identity.ts';
export { recentOrdersKept, refreshLifecycle } from './lifecycle.repository.ts';
export {
  attributeTypes, checkAttributeTypes, setStatusFlags, upsertNotes, upsertProfiles,
  type AddressInput, type AttributeType, type AttributeValue, type NoteInput, type ProfileInput, type StatusFlagInput,
} from './profile.repository.ts';

/** A customer as an event, a file row or a request names them: one or more identities, not yet normalised. */
export type CustomerRef = Parameters<typeof normaliseRef>[0];
