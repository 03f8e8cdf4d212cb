import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkDates,
  checkEmail,
  checkName,
  checkPhone,
  checkPostcode,
  checkRecord,
  countryCode,
  editDistance,
  likelyDomain,
  nameCase,
} from './checks.ts';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('exmaple', 'example'), 1);
  assert.equal(editDistance('gmial', 'gmail'), 1);
  assert.equal(editDistance('hotmial', 'hotmail'), 1);
  assert.equal(editDistance('outlok', 'outlook'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('a domain one or two slips from a common provider is a likely typo; real domains are not', () => {
  assert.equal(likelyDomain('exmaple.com'), 'example.com');
  assert.equal(likelyDomain('gmial.com'), 'gmail.com');
  assert.equal(likelyDomain('gmai.com'), 'gmail.com');
  assert.equal(likelyDomain('gmail.con'), 'gmail.com');
  assert.equal(likelyDomain('gmail.cmo'), 'gmail.com');
  assert.equal(likelyDomain('gmail.co'), 'gmail.com');
  assert.equal(likelyDomain('hotmal.de'), 'hotmail.de');
  assert.equal(likelyDomain('hotmiall.com'), 'hotmail.com');
  assert.equal(likelyDomain('yahooo.com'), 'yahoo.com');
  assert.equal(likelyDomain('tonline.de'), 't-online.de');
  assert.equal(likelyDomain('gmx.dee'), 'gmx.de');
  assert.equal(likelyDomain('googlemial.com'), 'googlemail.com');
  assert.equal(likelyDomain('icloud.con'), 'icloud.com');
  // Not a provider, but .con is no top-level domain.
  assert.equal(likelyDomain('kellerbau.con'), 'kellerbau.com');
  for (const real of ['gmail.com', 'mail.com', 'email.com', 'gmx.at', 'gmx.com', 'me.com', 'web.de', 'example.org'])
    assert.equal(likelyDomain(real), null, real);
  // Ordinary company domains far from every provider, and a real .co domain.
  for (const other of ['kellerbau.de', 'shop.example.co', 'acme.co', 'university.edu', 'posteo.net'])
    assert.equal(likelyDomain(other), null, other);
});

test('an email with a typo domain warns with the corrected address; a broken one says why', () => {
  assert.deepEqual(checkEmail('anna@exmaple.com'), [
    {
      field: 'email',
      code: 'email_typo',
      message: 'exmaple.com looks like a typo of example.com',
      suggestion: 'anna@example.com',
    },
  ]);
  assert.deepEqual(checkEmail('anna@example.com'), []);
  assert.deepEqual(checkEmail(null), []);
  const [noDot] = checkEmail('anna@gmail');
  assert.equal(noDot.code, 'email_invalid');
  assert.equal(noDot.message, 'anna@gmail is not a usable email address: the domain gmail has no dot (like gmail.com)');
  assert.equal(noDot.suggestion, 'anna@gmail.com');
  assert.match(checkEmail('anna..b@example.com')[0].message, /part before the @/);
  assert.match(checkEmail('anna@exa_mple.com')[0].message, /malformed part/);
  assert.match(checkEmail('anna@example.c0m')[0].message, /\.c0m is not a top-level domain/);
  assert.equal(checkEmail('no-at-sign')[0].message, 'no-at-sign is not a usable email address: it has no @');
  assert.deepEqual(checkEmail("o'brien+news@sub.example.co.uk"), []);
});

test('a phone number is judged in its own prefix country, else the given one', () => {
  assert.deepEqual(checkPhone('+49 30 901820', 'DE'), []);
  assert.deepEqual(checkPhone('030 901820', 'DE'), []);
  assert.deepEqual(checkPhone('+11234567890', 'DE'), [
    { field: 'phone', code: 'phone_invalid', message: '+11234567890 is not a valid US number', suggestion: null },
  ]);
  assert.deepEqual(checkPhone('+4912', 'US'), [
    { field: 'phone', code: 'phone_invalid', message: '+4912 is not a valid German number', suggestion: null },
  ]);
  assert.equal(checkPhone('030 12', 'DE')[0].message, '030 12 is not a valid German number');
  assert.equal(checkPhone('12', 'BR')[0].message, '12 is not a valid number in Brazil');
  assert.deepEqual(checkPhone('+44 20 7946 0958', 'DE'), []);
  assert.deepEqual(checkPhone(null, 'DE'), []);
});

test("a postcode must have its country's format; the written form is suggested when it is only spacing", () => {
  assert.deepEqual(checkPostcode('10 115', 'DE'), [
    {
      field: 'postal_code',
      code: 'postcode_format',
      message: '10 115 is not a German postcode (five digits)',
      suggestion: '10115',
    },
  ]);
  assert.equal(checkPostcode('1011', 'Germany')[0].suggestion, null);
  assert.equal(checkPostcode('1011', 'Deutschland')[0].message, '1011 is not a German postcode (five digits)');
  const good: [string, string][] = [
    ['10115', 'DE'],
    ['1010', 'AT'],
    ['8001', 'CH'],
    ['75001', 'FR'],
    ['1012 AB', 'NL'],
    ['1000', 'BE'],
    ['SW1A 1AA', 'GB'],
    ['M1 1AE', 'GB'],
    ['D02 X285', 'IE'],
    ['10001', 'US'],
    ['10001-1234', 'US'],
    ['K1A 0B1', 'CA'],
    ['00184', 'IT'],
    ['28013', 'ES'],
    ['1000-001', 'PT'],
    ['00-950', 'PL'],
    ['1050', 'DK'],
    ['114 55', 'SE'],
    ['0150', 'NO'],
    ['00100', 'FI'],
    ['110 00', 'CZ'],
    ['2000', 'AU'],
    ['100-0001', 'JP'],
  ];
  for (const [code, country] of good) assert.deepEqual(checkPostcode(code, country), [], `${code} ${country}`);
  const fixes: [string, string, string][] = [
    ['sw1a1aa', 'GB', 'SW1A 1AA'],
    ['1012ab', 'NL', '1012 AB'],
    ['k1a0b1', 'CA', 'K1A 0B1'],
    ['00950', 'PL', '00-950'],
    ['11455', 'SE', '114 55'],
    ['1000001', 'PT', '1000-001'],
    ['1000001', 'JP', '100-0001'],
    ['100011234', 'US', '10001-1234'],
  ];
  for (const [code, country, fixed] of fixes) assert.equal(checkPostcode(code, country)[0]?.suggestion, fixed, code);
  assert.equal(
    checkPostcode('99999', 'ES')[0].message,
    '99999 is not a Spanish postcode (five digits starting 01 to 52)',
  );
  assert.equal(
    checkPostcode('123', 'US')[0].message,
    '123 is not a US ZIP code (five digits, or five and four, like 10001-1234)',
  );
  // Countries Kept has no format for, and addresses without a country, are not judged.
  assert.deepEqual(checkPostcode('123', 'BR'), []);
  assert.deepEqual(checkPostcode('123', null), []);
  assert.equal(countryCode('United Kingdom'), 'GB');
  assert.equal(countryCode('de'), 'DE');
  assert.equal(countryCode('Atlantis'), null);
});

test('dates must be plausible: not in the future, not before 1900, birth dates within a lifetime', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  assert.deepEqual(
    checkDates(
      { createdAt: new Date('2031-04-02T00:00:00Z'), firstOrderAt: new Date('1899-12-31T00:00:00Z'), attributes: {} },
      now,
    ),
    [
      {
        field: 'created_at',
        code: 'date_range',
        message: 'Customer since 2031-04-02 is in the future',
        suggestion: null,
      },
      {
        field: 'first_order_at',
        code: 'date_range',
        message: 'First order 1899-12-31 is before 1900',
        suggestion: null,
      },
    ],
  );
  const warnings = checkDates(
    {
      createdAt: now,
      firstOrderAt: null,
      attributes: {
        birth_date: '2030-01-01',
        born: '1890-05-01',
        date_of_birth: '1901-01-01',
        contract_end: '2028-01-31',
        moon_landing: '2099-13-45',
        far: '2090-01-01',
        note: 'not a date',
      },
    },
    now,
  );
  assert.deepEqual(
    warnings.map((w) => [w.field, w.message]),
    [
      ['attributes.birth_date', 'birth_date 2030-01-01 is a birth date in the future'],
      ['attributes.born', 'born 1890-05-01 is before 1900'],
      ['attributes.date_of_birth', 'date_of_birth 1901-01-01 would make the customer older than 120'],
      ['attributes.far', 'far 2090-01-01 is more than 50 years ahead'],
      ['attributes.moon_landing', 'moon_landing 2099-13-45 is not a date on the calendar'],
    ],
  );
  // A clock a few hours ahead elsewhere is no problem.
  assert.deepEqual(
    checkDates({ createdAt: new Date('2026-12-05T20:00:00Z'), firstOrderAt: null, attributes: {} }, now),
    [],
  );
});

test('names in capitals or lower case get their usual case suggested; emails and digits are not names', () => {
  assert.deepEqual(checkName('ANNA KELLER'), [
    { field: 'name', code: 'name_case', message: 'The name ANNA KELLER is all capitals', suggestion: 'Anna Keller' },
  ]);
  assert.equal(checkName('anna keller')[0].suggestion, 'Anna Keller');
  assert.equal(checkName('anna keller')[0].message, 'The name anna keller is all lower case');
  assert.equal(nameCase("SEÁN O'BRIEN-MÜLLER"), "Seán O'Brien-Müller");
  assert.equal(nameCase('ludwig van der berg'), 'Ludwig van der Berg');
  assert.deepEqual(checkName('Anna Keller'), []);
  assert.deepEqual(checkName('Anna van der Berg'), []);
  assert.deepEqual(checkName('Li'), []);
  assert.deepEqual(checkName('王小明'), []);
  assert.deepEqual(checkName('A'), []);
  assert.deepEqual(checkName('anna@example.com'), [
    { field: 'name', code: 'name_form', message: 'The name anna@example.com is an email address', suggestion: null },
  ]);
  assert.equal(checkName('Anna Keller 2')[0].message, 'The name Anna Keller 2 contains digits');
});

test('a whole record: the phone is judged in the country of the current address', () => {
  const record = {
    name: 'ANNA KELLER',
    email: 'anna@exmaple.com',
    phone: '030 12',
    createdAt: new Date('2024-01-01T00:00:00Z'),
    firstOrderAt: null,
    attributes: {},
    postalCode: '10 115',
    country: 'DE',
  };
  const warnings = checkRecord(record, { now: new Date('2026-12-05T00:00:00Z'), defaultCountry: 'US' });
  assert.deepEqual(
    warnings.map((w) => `${w.field}:${w.code}`),
    ['name:name_case', 'email:email_typo', 'phone:phone_invalid', 'postal_code:postcode_format'],
  );
  const clean = checkRecord(
    { ...record, name: 'Anna Keller', email: 'anna@example.com', phone: '030 901820', postalCode: '10115' },
    { now: new Date('2026-12-05T00:00:00Z'), defaultCountry: 'US' },
  );
  assert.deepEqual(clean, []);
});
