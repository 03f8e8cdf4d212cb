import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type IdentityKind = 'external' | 'email' | 'phone';

/** A customer as an event, a file row or a request names them: one or more identities, not yet normalised. */
export interface CustomerRef {
  externalId?: string;
  email?: string;
  phone?: string;
}

export interface NormalisedRef {
  externalId: string | null;
  email: string | null;
  phone: string | null;
}

/** Trimmed, NFC, lower-cased; null when it is not an address at all. */
export function normaliseEmail(value: string | null | undefined): string | null {
  if (!value) return null;
  const email = value.normalize('NFC').trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : null;
}

/** E.164 when the number parses (in the default country if it has no prefix), else its digits. */
export function normalisePhone(value: string | null | undefined, defaultCountry: string): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (!trimmed) return null;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode);
  if (parsed?.isPossible()) return parsed.number;
  const digits = trimmed.replace(/[^\d+]/g, '');
  return digits.replace(/\D/g, '').length >= 5 ? digits : null;
}

export function normaliseExternalId(value: string | null | undefined): string | null {
  const id = value?.normalize('NFC').trim();
  return id ? id : null;
}

export function normaliseRef(ref: CustomerRef, defaultCountry: string): NormalisedRef {
  return {
    externalId: normaliseExternalId(ref.externalId),
    email: normaliseEmail(ref.email),
    phone: normalisePhone(ref.phone, defaultCountry),
  };
}

/** The strongest identity of a reference, used as its key: external id, then email, then phone. */
export function primaryIdentity(ref: NormalisedRef): { kind: IdentityKind; value: string } | null {
  if (ref.externalId) return { kind: 'external', value: ref.externalId };
  if (ref.email) return { kind: 'email', value: ref.email };
  if (ref.phone) return { kind: 'phone', value: ref.phone };
  return null;
}

export function identitiesOf(ref: NormalisedRef): { kind: IdentityKind; value: string }[] {
  const result: { kind: IdentityKind; value: string }[] = [];
  if (ref.externalId) result.push({ kind: 'external', value: ref.externalId });
  if (ref.email) result.push({ kind: 'email', value: ref.email });
  if (ref.phone) result.push({ kind: 'phone', value: ref.phone });
  return result;
}

export const identityKey = (identity: { kind: string; value: string }) => `${identity.kind}:${identity.value}`;
