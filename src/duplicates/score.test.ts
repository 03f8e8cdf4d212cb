// The pair score on plain records: each kind of evidence, and the cases that must stay below the threshold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareEmails, compareNames, defaultMinScore, editDistance, scorePair, type PersonFeatures } from './score.ts';

const person = (p: Partial<PersonFeatures>): PersonFeatures => ({
  name: null,
  email: null,
  phone: null,
  line1: null,
  postalCode: null,
  country: 'DE',
  ...p,
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('example', 'exmaple'), 1);
  assert.equal(editDistance('keller', 'keler'), 1);
  assert.equal(editDistance('anna', 'anna'), 0);
  assert.equal(editDistance('abc', 'xyz'), 3);
});

test('names: same, swapped, typo, initial, middle name, accents and case; family and strangers differ', () => {
  assert.equal(compareNames('Anna Keller', 'anna keller'), 'same name');
  assert.equal(compareNames('Oskar Jovanović', 'OSKAR JOVANOVIC'), 'same name');
  assert.equal(compareNames('Anna Keller', 'Keller Anna'), 'same name with first and last swapped');
  assert.equal(compareNames('Katharina Schneider', 'Katharina Schnieder'), 'names alike apart from a typo');
  assert.equal(compareNames('Clara Vogel', 'C. Vogel'), 'same surname, first name given as an initial');
  assert.equal(compareNames('Anna Maria Keller', 'Anna Keller'), 'same name apart from a middle name');
  assert.equal(compareNames('Anna Keller', 'Peter Keller'), 'one name the same, the other different');
  // Different people whose names differ only at the end, or are short: not typos.
  assert.equal(compareNames('Maria Rossi', 'Mario Rossi'), 'one name the same, the other different');
  assert.equal(compareNames('Christian Weber', 'Christina Weber'), 'one name the same, the other different');
  assert.equal(compareNames('Jan Keller', 'Jana Keller'), 'one name the same, the other different');
  assert.equal(compareNames('Anna Keller', 'Ben Brandt'), 'names differ');
  assert.equal(compareNames(null, 'Ben Brandt'), null);
});

test('emails: +tag, gmail dots, typo domain, another domain, different', () => {
  assert.equal(compareEmails('a.b@example.com', 'a.b@example.com'), 'same email address');
  assert.equal(
    compareEmails('anna.keller@example.com', 'anna.keller+shop@example.com'),
    'email the same apart from a +tag',
  );
  assert.equal(
    compareEmails('anna.keller@gmail.com', 'annakeller@gmail.com'),
    'email the same apart from dots in the name',
  );
  assert.equal(
    compareEmails('ben.brandt@example.com', 'ben.brandt@exmaple.com'),
    "email domain looks like a typo of the other's",
  );
  assert.equal(compareEmails('ben.brandt@gmail.com', 'ben.brandt@web.de'), 'same email name at another domain');
  assert.equal(compareEmails('clara@example.com', 'clara.v@post.example'), 'different email addresses');
  assert.equal(compareEmails('clara@example.com', null), null);
  assert.equal(compareEmails('anna.keller@example.com', 'anna.kelelr@example.com'), 'email alike apart from a typo');
  // The demo's addresses differ in a number: other people, not a typo.
  assert.equal(
    compareEmails('giulia.hansen1921@example.com', 'giulia.hansen1961@example.com'),
    'different email addresses',
  );
});

test('the planted pairs of the CLI check score above the threshold, the same name alone far below', () => {
  const k5 = person({
    name: 'Clara Vogel',
    email: 'clara@example.com',
    phone: '+498912345670',
    line1: 'Am Markt 1',
    postalCode: '80331',
  });
  const k6 = person({ name: 'C. Vogel', phone: '00498912345670', line1: 'Am Markt 1', postalCode: '80331' });
  const k7 = person({
    name: 'Clara Vogel',
    email: 'clara.v@post.example',
    phone: '+493099999999',
    line1: 'Ringstrasse 3',
    postalCode: '10115',
  });
  const k3 = person({
    name: 'Ben Brandt',
    email: 'ben.brandt@example.com',
    phone: '+494012345679',
    line1: 'Gartenweg 9',
    postalCode: '20095',
  });
  // As the store keeps a national number it could not place in the default country (US): its digits.
  const k4 = person({
    name: 'Ben Brandt',
    email: 'ben.brandt@exmaple.com',
    phone: '04012345679',
    line1: 'Gartenweg 9',
    postalCode: '20095',
  });
  const k1 = person({
    name: 'Anna Keller',
    email: 'anna.keller@example.com',
    phone: '+493012345678',
    line1: 'Hauptstrasse 5',
    postalCode: '10115',
  });
  const k2 = person({
    name: 'Keller Anna',
    email: 'anna.keller+shop@example.com',
    line1: 'Hauptstraße 5',
    postalCode: '10115',
  });

  const k56 = scorePair(k5, k6, 'US');
  assert.equal(k56.score, 0.8);
  assert.deepEqual(k56.evidence, [
    'same phone number',
    'same address and postcode',
    'same surname, first name given as an initial',
  ]);
  assert.equal(scorePair(k3, k4, 'US').score, 1);
  assert.ok(scorePair(k3, k4, 'US').evidence.includes("email domain looks like a typo of the other's"));
  assert.equal(scorePair(k1, k2, 'US').score, 1);
  const k57 = scorePair(k5, k7, 'US');
  assert.ok(k57.score < defaultMinScore, `same name only scored ${k57.score}`);
  assert.deepEqual(k57.evidence, [
    'same name',
    'different addresses',
    'different email addresses',
    'different phone numbers',
  ]);
});

test('family at one address sharing phone and email stays below the threshold; a moved duplicate is found', () => {
  const anna = person({
    name: 'Anna Keller',
    email: 'kellers@example.com',
    phone: '+493012345678',
    line1: 'Hauptstr. 5',
    postalCode: '10115',
  });
  const peter = person({
    name: 'Peter Keller',
    email: 'kellers@example.com',
    phone: '+49 30 12345678',
    line1: 'Hauptstraße 5',
    postalCode: '10115',
  });
  assert.ok(scorePair(anna, peter, 'DE').score < defaultMinScore);
  const moved = person({
    name: 'Anna Keller',
    email: 'kellers@example.com',
    phone: '030 12345678',
    line1: 'Bergweg 7',
    postalCode: '04109',
  });
  const found = scorePair(anna, moved, 'DE');
  assert.ok(found.score >= defaultMinScore);
  assert.ok(found.evidence.includes('different addresses'));
  // Evidence never carries a value.
  for (const words of found.evidence) assert.ok(!/keller|example|\d/i.test(words), words);
});
