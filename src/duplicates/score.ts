// Whether two customer records are one person: a weighted sum of evidence per field (name, email,
// phone, address), no I/O. Each comparison adds or takes away a fixed weight and says why in words
// that name no value, so the review queue can show the evidence without showing personal data.
// The weights are chosen so that a name alone (however rare) never reaches the threshold, and a
// different first name outweighs a shared address, phone and email (family members).
import { normalisePhone } from '../customers/identity.ts';

/** A customer as the finder compares them. */
export interface PersonFeatures {
  name: string | null;
  email: string | null;
  phone: string | null;
  line1: string | null;
  postalCode: string | null;
  /** Country of the current address (for numbers without a prefix); else the store's default. */
  country: string | null;
}

export interface PairScore {
  score: number;
  evidence: string[];
}

/** Pairs at or above this score are proposed (see docs/duplicates.md). */
export const defaultMinScore = 0.6;

/** The weight of each piece of evidence, by the words shown for it. */
export const weights = {
  'same name': 0.35,
  'same name with first and last swapped': 0.35,
  'same name apart from a middle name': 0.3,
  'names alike apart from a typo': 0.25,
  'same surname, first name given as an initial': 0.2,
  'one name the same, the other different': -0.6,
  'names differ': -0.4,
  'same email address': 0.45,
  'email the same apart from a +tag': 0.4,
  'email the same apart from dots in the name': 0.4,
  "email domain looks like a typo of the other's": 0.35,
  'email alike apart from a typo': 0.3,
  'same email name at another domain': 0.1,
  'different email addresses': -0.1,
  'same phone number': 0.35,
  'different phone numbers': -0.1,
  'same address and postcode': 0.25,
  'address alike and same postcode': 0.2,
  'same postcode': 0.05,
  'different addresses': 0,
} as const satisfies Record<string, number>;

export type Evidence = keyof typeof weights;

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/** Lower case, accents and punctuation gone, ß as ss. */
export function plain(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/ø/g, 'o')
    .replace(/ł/g, 'l')
    .replace(/đ/g, 'd');
}

export const nameTokens = (name: string | null) =>
  name
    ? plain(name)
        .split(/[^\p{L}]+/u)
        .filter((t) => t.length > 0)
    : [];

/**
 * A slip of the keyboard, not another name: both at least five letters, one edit apart (two from
 * nine letters), and not differing only at the end (Maria and Mario, Christian and Christina are
 * different people).
 */
function tokenTypo(a: string, b: string): boolean {
  if (a.length < 5 || b.length < 5) return false;
  if (a.slice(0, -2) === b.slice(0, -2)) return false;
  return editDistance(a, b) <= (Math.max(a.length, b.length) >= 9 ? 2 : 1);
}

type TokenMatch = 'exact' | 'typo' | 'initial';

function tokenMatch(a: string, b: string): TokenMatch | null {
  if (a === b) return 'exact';
  if ((a.length === 1 && b.startsWith(a)) || (b.length === 1 && a.startsWith(b))) return 'initial';
  return tokenTypo(a, b) ? 'typo' : null;
}

export function compareNames(first: string | null, second: string | null): Evidence | null {
  const a = nameTokens(first);
  const b = nameTokens(second);
  if (a.length === 0 || b.length === 0) return null;
  if (a.join(' ') === b.join(' ')) return 'same name';
  if ([...a].sort().join(' ') === [...b].sort().join(' ')) return 'same name with first and last swapped';
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  // Match each token of the shorter name to one of the longer, exact matches first.
  const free = [...long];
  const kinds: (TokenMatch | null)[] = [];
  for (const pass of ['exact', 'other'] as const) {
    for (let i = 0; i < short.length; i++) {
      if (kinds[i] !== undefined && kinds[i] !== null) continue;
      let found: TokenMatch | null = null;
      for (let j = 0; j < free.length; j++) {
        const kind = tokenMatch(short[i], free[j]);
        if (kind && (pass === 'other' || kind === 'exact')) {
          found = kind;
          free.splice(j, 1);
          break;
        }
      }
      kinds[i] = found;
    }
  }
  const exact = kinds.filter((k) => k === 'exact').length;
  if (kinds.every((k) => k !== null)) {
    if (kinds.includes('initial')) return exact > 0 ? 'same surname, first name given as an initial' : 'names differ';
    if (kinds.includes('typo')) return 'names alike apart from a typo';
    return 'same name apart from a middle name';
  }
  return exact > 0 ? 'one name the same, the other different' : 'names differ';
}

const gmail = new Set(['gmail.com', 'googlemail.com']);

function splitEmail(email: string): { local: string; tagless: string; domain: string } | null {
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = email.slice(0, at).toLowerCase();
  const domain = email.slice(at + 1).toLowerCase();
  return { local, tagless: local.replace(/\+.*$/, ''), domain };
}

/** Same top-level domain and one slip apart (exmaple.com, gmial.com), or two slips in a long name. */
function domainTypo(a: string, b: string): boolean {
  const distance = editDistance(a, b);
  return distance === 1 || (distance === 2 && a.length >= 8 && a.split('.').pop() === b.split('.').pop());
}

export function compareEmails(first: string | null, second: string | null): Evidence | null {
  const a = first ? splitEmail(first) : null;
  const b = second ? splitEmail(second) : null;
  if (!a || !b) return null;
  if (a.local === b.local && a.domain === b.domain) return 'same email address';
  if (a.domain === b.domain) {
    if (a.tagless === b.tagless) return 'email the same apart from a +tag';
    if (gmail.has(a.domain) && a.tagless.replaceAll('.', '') === b.tagless.replaceAll('.', ''))
      return 'email the same apart from dots in the name';
    // A slip in the letters; numbers that differ (anna.keller12, anna.keller17) are other accounts.
    if (
      a.tagless.length >= 6 &&
      a.tagless.replace(/\D/g, '') === b.tagless.replace(/\D/g, '') &&
      editDistance(a.tagless, b.tagless) === 1
    )
      return 'email alike apart from a typo';
    return 'different email addresses';
  }
  if (a.tagless === b.tagless)
    return domainTypo(a.domain, b.domain)
      ? "email domain looks like a typo of the other's"
      : 'same email name at another domain';
  return 'different email addresses';
}

/** E.164 when it parses in its country (a leading 00 is the international prefix), else the digits. */
export function phoneKey(phone: string | null, country: string): string | null {
  if (!phone) return null;
  const trimmed = phone.trim().replace(/^00/, '+');
  return normalisePhone(trimmed, country) ?? null;
}

export function comparePhones(
  first: string | null,
  firstCountry: string,
  second: string | null,
  secondCountry: string,
): Evidence | null {
  const a = phoneKey(first, firstCountry);
  const b = phoneKey(second, secondCountry);
  if (!a || !b) return null;
  return a === b ? 'same phone number' : 'different phone numbers';
}

export const streetKey = (line: string) =>
  plain(line)
    .replace(/stra?s?se\b|str\b\.?/g, 'str')
    .replace(/[^a-z0-9]/g, '');
const postcodeKey = (code: string) => code.replace(/\s+/g, '').toUpperCase();

export function compareAddresses(first: PersonFeatures, second: PersonFeatures): Evidence | null {
  const samePostcode =
    first.postalCode && second.postalCode ? postcodeKey(first.postalCode) === postcodeKey(second.postalCode) : null;
  if (samePostcode === null) return null;
  if (samePostcode && first.line1 && second.line1) {
    const a = streetKey(first.line1);
    const b = streetKey(second.line1);
    if (a === b) return 'same address and postcode';
    // A slip in the street name, never in the house number.
    if (a.replace(/\D/g, '') === b.replace(/\D/g, '') && editDistance(a, b) <= 2)
      return 'address alike and same postcode';
  }
  return samePostcode ? 'same postcode' : 'different addresses';
}

/** The score (0 to 1, three decimals) and the evidence, strongest first, of two records being one person. */
export function scorePair(first: PersonFeatures, second: PersonFeatures, defaultCountry: string): PairScore {
  const evidence = [
    compareNames(first.name, second.name),
    compareEmails(first.email, second.email),
    comparePhones(first.phone, first.country ?? defaultCountry, second.phone, second.country ?? defaultCountry),
    compareAddresses(first, second),
  ].filter((e): e is Evidence => e !== null);
  const sum = evidence.reduce((total, e) => total + weights[e], 0);
  return {
    score: Math.round(Math.min(1, Math.max(0, sum)) * 1000) / 1000,
    evidence: [...evidence].sort((x, y) => weights[y] - weights[x]),
  };
}
