// The entry checks: pure functions from a value (and its country) to warnings in plain words. They
// warn, never reject: a record with a doubtful value is stored as it came, and the warning says
// what looks wrong and, when it can, what the value probably should be.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { RecordWarning } from './quality.ts';

/** Common mail providers (and example.com): what a near miss is compared with, most used first. */
export const typoTargets = [
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'icloud.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  't-online.de',
  'aol.com',
  'example.com',
  'yahoo.de',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.it',
  'yahoo.es',
  'hotmail.de',
  'hotmail.co.uk',
  'hotmail.fr',
  'hotmail.it',
  'outlook.de',
  'gmx.at',
  'gmx.ch',
  'freenet.de',
  'bluewin.ch',
  'protonmail.com',
  'btinternet.com',
  'comcast.net',
] as const;
/** Real domains close to a common one ("mail.com" beside "gmail.com"): never taken for a typo. */
const knownDomains = new Set<string>([
  ...typoTargets,
  'live.com',
  'live.de',
  'msn.com',
  'me.com',
  'mac.com',
  'mail.com',
  'mail.de',
  'email.com',
  'ymail.com',
  'gmx.com',
  'arcor.de',
  'posteo.de',
  'proton.me',
  'orange.fr',
  'free.fr',
  'libero.it',
  'yahoo.ca',
  'hotmail.es',
  'example.org',
  'example.net',
]);

/** Top-level domains that do not exist but are one slip from .com, .net or .de. */
const tldTypos: Record<string, string> = {
  con: 'com',
  cmo: 'com',
  cpm: 'com',
  vom: 'com',
  xom: 'com',
  ocm: 'com',
  cim: 'com',
  comm: 'com',
  coom: 'com',
  nte: 'net',
  ner: 'net',
  nett: 'net',
  dee: 'de',
};
/** Real top-level domains that are still a slip beside a common provider's name (gmail.co, gmail.cm). */
const providerTldTypos: Record<string, string> = { co: 'com', cm: 'com', om: 'com', ne: 'net', nt: 'net' };

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** A domain as its name and top-level part (co.uk counts as one), e.g. ['yahoo', 'co.uk']. */
function splitDomain(domain: string): [string, string] {
  const parts = domain.split('.');
  const tldParts =
    parts.length > 2 && ['co', 'com', 'org'].includes(parts.at(-2)!) && parts.at(-1)!.length === 2 ? 2 : 1;
  return [parts.slice(0, -tldParts).join('.'), parts.slice(-tldParts).join('.')];
}

/** The common domain a domain is probably a misspelling of (exmaple.com -> example.com), or null. */
export function likelyDomain(domain: string): string | null {
  const lower = domain.toLowerCase();
  if (knownDomains.has(lower)) return null;
  const [name, tld] = splitDomain(lower);
  const fixedTld = tldTypos[tld] ?? tld;
  let best: { domain: string; distance: number } | null = null;
  for (const candidate of typoTargets) {
    const [knownName, knownTld] = splitDomain(candidate);
    const distance = editDistance(name, knownName);
    // A real top-level domain (.co, .cm) is a slip only beside the provider's exact name.
    const tldMatches = knownTld === fixedTld || (providerTldTypos[tld] === knownTld && distance === 0);
    if (!tldMatches) continue;
    // Short names allow one edit (gmx, web, aol, gmail), longer ones two (hotmail, outlook, example).
    const allowed = knownName.length <= 5 ? 1 : 2;
    if (distance > allowed || (distance === 0 && knownTld === tld)) continue;
    if (!best || distance < best.distance) best = { domain: candidate, distance };
  }
  if (best) return best.domain;
  // Any name with a top-level domain that does not exist but is one slip from a common one.
  return tldTypos[tld] && name ? `${name}.${tldTypos[tld]}` : null;
}

const localPart = /^[a-z0-9!#$%&'*+/=?^_`{|}~\u00a0-\uffff-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~\u00a0-\uffff-]+)*$/i;
const domainLabel = /^[a-z0-9\u00a0-\uffff]([a-z0-9\u00a0-\uffff-]*[a-z0-9\u00a0-\uffff])?$/i;

/** Whether an address is one mail can be sent to, and if it looks like a misspelt common provider. */
export function checkEmail(email: string | null): RecordWarning[] {
  if (!email) return [];
  const value = email.trim();
  const invalid = (why: string, suggestion: string | null = null): RecordWarning[] => [
    { field: 'email', code: 'email_invalid', message: `${value} is not a usable email address: ${why}`, suggestion },
  ];
  const at = value.lastIndexOf('@');
  if (at < 0) return invalid('it has no @');
  if (value.indexOf('@') !== at) return invalid('it has more than one @');
  if (/\s/.test(value)) return invalid('it contains a space', value.replace(/\s+/g, ''));
  const local = value.slice(0, at);
  let domain = value.slice(at + 1).toLowerCase();
  if (!local) return invalid('nothing before the @');
  if (!localPart.test(local))
    return invalid(`the part before the @ has a character mail does not allow or a dot in the wrong place`);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  const labels = domain.split('.');
  if (labels.length < 2) {
    const provider = knownDomains.has(`${domain}.com`) ? `${domain}.com` : likelyDomain(`${domain}.com`);
    return invalid(
      `the domain ${domain} has no dot (like ${provider ?? 'example.com'})`,
      provider && `${local}@${provider}`,
    );
  }
  if (labels.some((label) => !domainLabel.test(label)))
    return invalid(`the domain ${domain} has an empty or malformed part`);
  const tld = labels.at(-1)!;
  if (!/^([a-z]{2,}|xn--[a-z0-9-]+)$/i.test(tld) && !/[\u00a0-\uffff]/.test(tld))
    return invalid(`the domain ending .${tld} is not a top-level domain`);
  const likely = likelyDomain(domain);
  if (likely) {
    return [
      {
        field: 'email',
        code: 'email_typo',
        message: `${domain} looks like a typo of ${likely}`,
        suggestion: `${local}@${likely}`,
      },
    ];
  }
  return [];
}

/** English adjectives for the countries whose formats Kept knows ("not a valid German number"). */
const adjectives: Record<string, string> = {
  DE: 'German',
  AT: 'Austrian',
  CH: 'Swiss',
  FR: 'French',
  NL: 'Dutch',
  BE: 'Belgian',
  GB: 'British',
  IE: 'Irish',
  US: 'US',
  CA: 'Canadian',
  IT: 'Italian',
  ES: 'Spanish',
  PT: 'Portuguese',
  PL: 'Polish',
  DK: 'Danish',
  SE: 'Swedish',
  NO: 'Norwegian',
  FI: 'Finnish',
  CZ: 'Czech',
  AU: 'Australian',
  JP: 'Japanese',
};
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const countryName = (code: string) => {
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
};
/** "German", or "from Brazil" where Kept knows no adjective: "not a valid number from Brazil". */
const ofCountry = (code: string) => adjectives[code] ?? null;

// English and local names people write in an address's country field, for the codes below.
const localCountryNames: Record<string, string> = {
  deutschland: 'DE',
  germany: 'DE',
  österreich: 'AT',
  oesterreich: 'AT',
  schweiz: 'CH',
  suisse: 'CH',
  svizzera: 'CH',
  nederland: 'NL',
  belgië: 'BE',
  belgique: 'BE',
  'united kingdom': 'GB',
  uk: 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  éire: 'IE',
  'united states': 'US',
  'united states of america': 'US',
  usa: 'US',
  italia: 'IT',
  españa: 'ES',
  espana: 'ES',
  polska: 'PL',
  danmark: 'DK',
  sverige: 'SE',
  norge: 'NO',
  suomi: 'FI',
  česko: 'CZ',
  'czech republic': 'CZ',
  czechia: 'CZ',
  nihon: 'JP',
};

/** An address's country as a two-letter code (DE, "Germany", "Deutschland" -> DE), or null when it cannot tell. */
export function countryCode(country: string | null | undefined): string | null {
  const value = country?.trim();
  if (!value) return null;
  if (/^[a-z]{2}$/i.test(value)) return value.toUpperCase();
  const lower = value.toLowerCase();
  if (localCountryNames[lower]) return localCountryNames[lower];
  return Object.keys(adjectives).find((code) => countryName(code).toLowerCase() === lower) ?? null;
}

/** Whether a phone number can exist (right length and prefix) in its country: the number's own prefix, else `country`. */
export function checkPhone(phone: string | null, country: string): RecordWarning[] {
  if (!phone) return [];
  const parsed = parsePhoneNumberFromString(phone, country as CountryCode);
  if (parsed?.isValid()) return [];
  // A number with its own prefix is judged in that prefix's country; a national one in the customer's.
  const where = parsed?.country ?? parsed?.getPossibleCountries()[0] ?? (/^\s*(\+|00)/.test(phone) ? null : country);
  const adjective = where ? ofCountry(where) : null;
  const kind = adjective
    ? `a valid ${adjective} number`
    : where
      ? `a valid number in ${countryName(where)}`
      : 'a valid number for its country prefix';
  return [{ field: 'phone', code: 'phone_invalid', message: `${phone} is not ${kind}`, suggestion: null }];
}

interface PostcodeFormat {
  pattern: RegExp;
  /** What it should look like, in words. */
  words: string;
  /** The code in its written form from its letters and digits alone, when that is unambiguous. */
  write?: (compact: string) => string;
}
const spaceAt = (n: number) => (compact: string) => `${compact.slice(0, n)} ${compact.slice(n)}`;
const dashAt = (n: number) => (compact: string) => `${compact.slice(0, n)}-${compact.slice(n)}`;
const asIs = (compact: string) => compact;

/** Postcode formats by country; write() gives the written form of a code typed without (or with other) spaces. */
export const postcodeFormats: Record<string, PostcodeFormat> = {
  DE: { pattern: /^\d{5}$/, words: 'five digits', write: asIs },
  AT: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  CH: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  FR: { pattern: /^\d{5}$/, words: 'five digits', write: asIs },
  NL: { pattern: /^\d{4} [A-Z]{2}$/, words: 'four digits, a space and two letters, like 1012 AB', write: spaceAt(4) },
  BE: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  GB: {
    pattern: /^(GIR 0AA|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})$/,
    words: 'an outward code, a space and three characters, like SW1A 1AA',
    write: (c) => `${c.slice(0, -3)} ${c.slice(-3)}`,
  },
  IE: {
    pattern: /^([AC-FHKNPRTV-Y]\d{2}|D6W) [AC-FHKNPRTV-Y\d]{4}$/,
    words: 'an Eircode: three characters, a space and four, like D02 X285',
    write: spaceAt(3),
  },
  US: {
    pattern: /^\d{5}(-\d{4})?$/,
    words: 'five digits, or five and four, like 10001-1234',
    write: (c) => (c.length === 9 ? dashAt(5)(c) : c),
  },
  CA: {
    pattern: /^[ABCEGHJ-NPRSTVXY]\d[A-Z] \d[A-Z]\d$/,
    words: 'letter digit letter, a space, digit letter digit, like K1A 0B1',
    write: spaceAt(3),
  },
  IT: { pattern: /^\d{5}$/, words: 'five digits', write: asIs },
  ES: { pattern: /^(0[1-9]|[1-4]\d|5[0-2])\d{3}$/, words: 'five digits starting 01 to 52', write: asIs },
  PT: { pattern: /^\d{4}-\d{3}$/, words: 'four digits, a dash and three, like 1000-001', write: dashAt(4) },
  PL: { pattern: /^\d{2}-\d{3}$/, words: 'two digits, a dash and three, like 00-950', write: dashAt(2) },
  DK: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  SE: { pattern: /^\d{3} \d{2}$/, words: 'three digits, a space and two, like 114 55', write: spaceAt(3) },
  NO: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  FI: { pattern: /^\d{5}$/, words: 'five digits', write: asIs },
  CZ: { pattern: /^\d{3} \d{2}$/, words: 'three digits, a space and two, like 110 00', write: spaceAt(3) },
  AU: { pattern: /^\d{4}$/, words: 'four digits', write: asIs },
  JP: { pattern: /^\d{3}-\d{4}$/, words: 'three digits, a dash and four, like 100-0001', write: dashAt(3) },
};

const postcodeNoun = (code: string) =>
  ['GB', 'IE', 'AU', 'NL'].includes(code)
    ? 'postcode'
    : code === 'US'
      ? 'ZIP code'
      : code === 'CA'
        ? 'postal code'
        : 'postcode';

/** Whether a postcode has its country's format; unknown countries are not judged. */
export function checkPostcode(postcode: string | null, country: string | null): RecordWarning[] {
  const code = countryCode(country);
  if (!postcode?.trim() || !code) return [];
  const format = postcodeFormats[code];
  if (!format) return [];
  const value = postcode.trim();
  if (format.pattern.test(value)) return [];
  const compact = value.toUpperCase().replace(/[\s-]+/g, '');
  const written = format.write?.(compact);
  const suggestion = written && format.pattern.test(written) ? written : null;
  const who = ofCountry(code) ?? countryName(code);
  return [
    {
      field: 'postal_code',
      code: 'postcode_format',
      message: `${value} is not a ${who} ${postcodeNoun(code)} (${format.words})`,
      suggestion,
    },
  ];
}

const earliest = Date.UTC(1900, 0, 1);
const isoDay = (at: Date) => at.toISOString().slice(0, 10);
const birthLike = /birth|born|dob|geburt/i;

/**
 * Dates in a plausible range: when the customer was created and first ordered, not in the future
 * nor before 1900; a date attribute not before 1900 nor more than 50 years ahead, a birth date not
 * in the future nor more than 120 years ago.
 */
export function checkDates(
  record: { createdAt: Date | null; firstOrderAt: Date | null; attributes: Record<string, unknown> },
  now: Date,
): RecordWarning[] {
  const warnings: RecordWarning[] = [];
  // A clock a little ahead in another system is no problem; a day is.
  const future = now.getTime() + 86_400_000;
  const events: [string, string, Date | null][] = [
    ['created_at', 'Customer since', record.createdAt],
    ['first_order_at', 'First order', record.firstOrderAt],
  ];
  for (const [field, what, at] of events) {
    if (!at) continue;
    if (at.getTime() > future)
      warnings.push({ field, code: 'date_range', message: `${what} ${isoDay(at)} is in the future`, suggestion: null });
    else if (at.getTime() < earliest)
      warnings.push({ field, code: 'date_range', message: `${what} ${isoDay(at)} is before 1900`, suggestion: null });
  }
  for (const [key, value] of Object.entries(record.attributes).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) continue;
    const at = Date.parse(value);
    const field = `attributes.${key}`;
    const warn = (why: string) =>
      warnings.push({ field, code: 'date_range', message: `${key} ${value} ${why}`, suggestion: null });
    if (Number.isNaN(at)) warn('is not a date on the calendar');
    else if (at < earliest) warn('is before 1900');
    else if (birthLike.test(key) && at > future) warn('is a birth date in the future');
    else if (birthLike.test(key) && now.getUTCFullYear() - new Date(at).getUTCFullYear() > 120)
      warn('would make the customer older than 120');
    else if (at > now.getTime() + 50 * 365.25 * 86_400_000) warn('is more than 50 years ahead');
  }
  return warnings;
}

const particles = new Set([
  'von',
  'van',
  'der',
  'den',
  'de',
  'du',
  'da',
  'di',
  'del',
  'la',
  'le',
  'zu',
  'ter',
  'ten',
  'y',
  'bin',
  'al',
]);

/** A name in its usual case: "ANNA KELLER" and "anna keller" -> "Anna Keller", "o'brien" -> "O'Brien", "van der berg" kept lower inside. */
export function nameCase(name: string): string {
  return name
    .toLowerCase()
    .split(/(\s+)/)
    .map((word, i) =>
      /^\s+$/.test(word) || (i > 0 && particles.has(word))
        ? word
        : word.replace(/(^|[-'’])(\p{L})/gu, (_, before: string, letter: string) => before + letter.toUpperCase()),
    )
    .join('');
}

/** A name that is an email address or holds digits, or that is all capitals or all lower case. */
export function checkName(name: string | null): RecordWarning[] {
  const value = name?.trim();
  if (!value) return [];
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    return [{ field: 'name', code: 'name_form', message: `The name ${value} is an email address`, suggestion: null }];
  if (/\d/.test(value))
    return [{ field: 'name', code: 'name_form', message: `The name ${value} contains digits`, suggestion: null }];
  const letters = value.replace(/[^\p{L}]/gu, '');
  // Scripts without case (Chinese, Arabic ...) have nothing to say here.
  if (letters.length < 2 || letters.toUpperCase() === letters.toLowerCase()) return [];
  const upper = letters === letters.toUpperCase();
  const lower = letters === letters.toLowerCase();
  if (!upper && !lower) return [];
  return [
    {
      field: 'name',
      code: 'name_case',
      message: `The name ${value} is all ${upper ? 'capitals' : 'lower case'}`,
      suggestion: nameCase(value),
    },
  ];
}

/** What every entry check says about one record. */
export interface CheckedRecord {
  name: string | null;
  email: string | null;
  phone: string | null;
  createdAt: Date | null;
  firstOrderAt: Date | null;
  attributes: Record<string, unknown>;
  /** The current address's postcode and country. */
  postalCode: string | null;
  country: string | null;
}

/** All the entry checks on one record; the phone is judged in the address's country, else `defaultCountry`. */
export function checkRecord(record: CheckedRecord, options: { now: Date; defaultCountry: string }): RecordWarning[] {
  const country = countryCode(record.country) ?? options.defaultCountry;
  return [
    ...checkName(record.name),
    ...checkEmail(record.email),
    ...checkPhone(record.phone, country),
    ...checkPostcode(record.postalCode, record.country),
    ...checkDates(record, options.now),
  ];
}
