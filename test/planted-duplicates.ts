// A generated store with planted duplicates of every kind the finder must see (a typo in the name,
// swapped name order, an initial, email +tags, typo domains and gmail dots, phone numbers written
// nationally or with 00, a customer who moved but kept phone or email) and decoys it must not take
// for duplicates (a common name in the same postcode, family members at one address sharing the
// landline or the email). Rows go in with SQL in big batches, as the write pipeline would have
// stored them (emails lower case, phones normalised in the store's default country). For the
// precision and recall test and the benchmark.
import { normalisePhone } from '../src/customers/identity.ts';
import { array, sql, type Db } from '../src/db/connection.ts';
import { random, type Rng } from '../src/shared/random.ts';

const firstNames = [
  'Anna',
  'Ben',
  'Clara',
  'David',
  'Emma',
  'Felix',
  'Greta',
  'Hannah',
  'Jonas',
  'Katharina',
  'Lukas',
  'Marie',
  'Niklas',
  'Olivia',
  'Paul',
  'Sophie',
  'Tobias',
  'Valentina',
  'Maximilian',
  'Charlotte',
  'Alexander',
  'Johanna',
  'Sebastian',
  'Franziska',
  'Christian',
  'Christina',
  'Elisabeth',
  'Friedrich',
  'Gabriele',
  'Heinrich',
  'Isabella',
  'Joachim',
  'Konstantin',
  'Leonhard',
  'Magdalena',
  'Nikolaus',
  'Oskar',
  'Penelope',
  'Rosalie',
  'Stefanie',
  'Theresa',
  'Ulrich',
  'Veronika',
  'Wolfgang',
  'Zoë',
  'Jürgen',
  'Sören',
  'Anaïs',
  'Mathilde',
  'Bernhard',
  'Cornelia',
  'Dominik',
  'Elena',
  'Florian',
  'Gisela',
  'Helmut',
  'Ingrid',
  'Jakob',
  'Karolina',
  'Leopold',
];
const lastNames = [
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schulz',
  'Hoffmann',
  'Schäfer',
  'Koch',
  'Bauer',
  'Richter',
  'Klein',
  'Wolf',
  'Schröder',
  'Neumann',
  'Schwarz',
  'Zimmermann',
  'Braun',
  'Krüger',
  'Hofmann',
  'Hartmann',
  'Lange',
  'Schmitt',
  'Werner',
  'Schmitz',
  'Krause',
  'Meier',
  'Lehmann',
  'Schmid',
  'Schulze',
  'Maier',
  'Köhler',
  'Herrmann',
  'König',
  'Walter',
  'Mayer',
  'Huber',
  'Kaiser',
  'Fuchs',
  'Peters',
  'Lang',
  'Scholz',
  'Möller',
  'Weiß',
  'Jung',
  'Hahn',
  'Schubert',
  'Vogel',
  'Friedrich',
  'Keller',
  'Günther',
  'Frank',
  'Berger',
  'Winkler',
  'Roth',
  'Beck',
  'Lorenz',
  'Baumann',
  'Franke',
  'Albrecht',
  'Schuster',
  'Simon',
  'Ludwig',
  'Böhm',
  'Winter',
  'Kraus',
  'Martin',
  'Schumacher',
  'Krämer',
  'Vogt',
  'Stein',
  'Jäger',
  'Otto',
  'Sommer',
  'Groß',
  'Seidel',
  'Heinrich',
  'Brandt',
  'Haas',
  'Schreiber',
  'Graf',
  'Schulte',
  'Dietrich',
  'Ziegler',
  'Kuhn',
  'Kühn',
  'Pohl',
  'Engel',
  'Horn',
  'Busch',
  'Bergmann',
  'Thomas',
  'Voigt',
  'Sauer',
  'Arnold',
  'Wolff',
  'Pfeiffer',
  'Jovanović',
  'Nowak',
  'Kowalski',
  'Yılmaz',
  'Dubois',
  'García',
];
const streets = [
  'Hauptstraße',
  'Gartenweg',
  'Am Markt',
  'Ringstraße',
  'Schulstraße',
  'Bergweg',
  'Lindenallee',
  'Bahnhofstraße',
  'Kirchgasse',
  'Dorfstraße',
  'Birkenweg',
  'Mühlenweg',
  'Rosenstraße',
  'Waldstraße',
  'Feldweg',
  'Friedhofstraße',
  'Goethestraße',
  'Schillerstraße',
  'Parkstraße',
  'Wiesenweg',
  'Eichendorffstraße',
  'Talstraße',
  'Uferweg',
];
const domains = ['gmail.com', 'web.de', 'gmx.de', 't-online.de', 'outlook.com', 'example.com', 'posteo.de'];
const typoDomains: Record<string, string> = {
  'gmail.com': 'gmial.com',
  'web.de': 'wbe.de',
  'gmx.de': 'gxm.de',
  't-online.de': 't-onlien.de',
  'outlook.com': 'outlok.com',
  'example.com': 'exmaple.com',
  'posteo.de': 'psoteo.de',
};
const areaCodes = ['30', '40', '89', '221', '69', '711', '211', '341', '351', '511'];

interface Person {
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  line1: string;
  city: string;
  postalCode: string;
  /** An earlier address, closed, for a customer who moved. */
  previous?: { line1: string; postalCode: string };
}

const pick = <T>(rng: Rng, values: readonly T[]) => values[Math.floor(rng() * values.length)];
const lower = (v: string) =>
  v
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^a-z]/g, '');

/** A slip inside a long token (two middle letters swapped, or one dropped), never at its end. */
function typo(rng: Rng, name: string): string {
  const tokens = name.split(' ');
  const i = tokens.findIndex((t) => t.length >= 6);
  if (i < 0) return name;
  const t = tokens[i];
  const at = 1 + Math.floor(rng() * (t.length - 4));
  tokens[i] = rng() < 0.5 ? t.slice(0, at) + t[at + 1] + t[at] + t.slice(at + 2) : t.slice(0, at) + t.slice(at + 1);
  return tokens.join(' ');
}

export interface PlantedStore {
  customers: number;
  /** The planted duplicate pairs, as "externalId|externalId" (sorted). */
  truth: Set<string>;
  kinds: Record<string, number>;
}

export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/**
 * Writes `count` customers (about 8% of them planted duplicates and 4% decoys) with their current
 * addresses, in batches; the same seed gives the same store.
 */
export async function plantStore(db: Db, count: number, seed = 21, defaultCountry = 'US'): Promise<PlantedStore> {
  const rng = random(seed);
  const truth = new Set<string>();
  const kinds: Record<string, number> = {};
  const postcodes = Math.max(50, Math.round(count / 40));
  let n = 0;
  let batch: Person[] = [];
  const flush = async () => {
    if (batch.length > 0) await insertPeople(db, batch, defaultCountry);
    batch = [];
  };
  let serial = 0;
  const base = (): Person => {
    serial++;
    const first = pick(rng, firstNames);
    const last = pick(rng, lastNames);
    const domain = pick(rng, domains);
    const local = rng() < 0.5 ? `${lower(first)}.${lower(last)}${serial}` : `${lower(first)[0]}${lower(last)}${serial}`;
    return {
      externalId: '',
      name: `${first} ${last}`,
      email: rng() < 0.9 ? `${local}@${domain}` : null,
      phone: rng() < 0.8 ? `+49${pick(rng, areaCodes)}${String(10_000_000 + serial).slice(-8)}` : null,
      line1: `${pick(rng, streets)} ${1 + Math.floor(rng() * 120)}`,
      city: 'Stadt',
      postalCode: String(10_000 + Math.floor(rng() * postcodes) * 3).padStart(5, '0'),
    };
  };
  const national = (phone: string) => `0${phone.slice(3, 3 + 3)} ${phone.slice(6)}`;
  const plant = (kind: string, original: Person, copy: Omit<Person, 'externalId'>, duplicate: boolean) => {
    n++;
    const person = { ...copy, externalId: `P${n}` };
    batch.push(person);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (duplicate) truth.add(pairKey(original.externalId, person.externalId));
  };
  while (n < count) {
    n++;
    const person = { ...base(), externalId: `P${n}` };
    batch.push(person);
    const roll = rng();
    const [first, ...rest] = person.name.split(' ');
    const last = rest.join(' ');
    if (roll < 0.08 && n + 1 < count) {
      const kind = Math.floor(rng() * 9);
      const moved = {
        line1: `${pick(rng, streets)} ${1 + Math.floor(rng() * 120)}`,
        postalCode: String(10_001 + Math.floor(rng() * postcodes) * 3),
      };
      if (kind === 0 && person.phone)
        plant(
          'name typo, phone written nationally',
          person,
          { ...person, name: typo(rng, person.name), email: null, phone: national(person.phone) },
          true,
        );
      else if (kind === 1 && person.email)
        plant(
          'swapped name order, email +tag',
          person,
          { ...person, name: `${last} ${first}`, email: person.email.replace('@', '+shop@'), phone: null },
          true,
        );
      else if (kind === 2 && person.email) {
        const [local, domain] = person.email.split('@');
        plant('email typo domain', person, { ...person, email: `${local}@${typoDomains[domain]}` }, true);
      } else if (kind === 3 && person.email?.endsWith('@gmail.com') && person.email.split('@')[0].includes('.')) {
        const local = person.email.split('@')[0];
        plant(
          'gmail dots and case',
          person,
          { ...person, email: `${local.replace('.', '')}@gmail.com`, phone: null },
          true,
        );
      } else if (kind === 4 && person.phone)
        plant(
          'phone with 00, no email',
          person,
          { ...person, email: null, phone: `00${person.phone.slice(1, 5)} ${person.phone.slice(5)}` },
          true,
        );
      else if (kind === 5 && (person.phone || person.email))
        plant(
          'moved, kept phone and email',
          person,
          { ...person, ...moved, previous: { line1: person.line1, postalCode: person.postalCode } },
          true,
        );
      else if (kind === 6 && person.phone)
        plant('initial for the first name', person, { ...person, name: `${first[0]}. ${last}`, email: null }, true);
      else if (kind === 7 && person.phone)
        plant(
          'moved, kept phone, new email',
          person,
          { ...person, ...moved, email: `new${serial}@${pick(rng, domains)}` },
          true,
        );
      else if (kind === 8 && person.phone && person.email)
        plant(
          'all at once: name typo, email +tag, phone written nationally, moved',
          person,
          {
            ...person,
            ...moved,
            name: typo(rng, person.name),
            email: person.email.replace('@', '+news@'),
            phone: national(person.phone),
          },
          true,
        );
    } else if (roll < 0.12 && n + 1 < count) {
      const kind = Math.floor(rng() * 4);
      const other = firstNames.filter((f) => f !== first && f[0] !== first[0]);
      if (kind === 0)
        // A neighbour with the same name: same postcode, another street, own email and phone.
        plant(
          'decoy: same name, same postcode',
          person,
          { ...base(), name: person.name, postalCode: person.postalCode },
          false,
        );
      else if (kind === 3)
        // Father and son of one name at one address, each with their own email and phone.
        plant(
          'decoy: same name, same address',
          person,
          { ...base(), name: person.name, line1: person.line1, postalCode: person.postalCode },
          false,
        );
      else if (kind === 1)
        plant(
          'decoy: family, shared landline',
          person,
          {
            ...base(),
            name: `${pick(rng, other)} ${last}`,
            phone: person.phone,
            line1: person.line1,
            postalCode: person.postalCode,
          },
          false,
        );
      else
        plant(
          'decoy: family, shared email',
          person,
          {
            ...base(),
            name: `${pick(rng, other)} ${last}`,
            email: person.email,
            line1: person.line1,
            postalCode: person.postalCode,
            phone: null,
          },
          false,
        );
    }
    if (batch.length >= 5000) await flush();
  }
  await flush();
  return { customers: n, truth, kinds };
}

async function insertPeople(db: Db, people: Person[], defaultCountry: string): Promise<void> {
  await db.execute(sql`with input as (
      select * from unnest(${array(people.map((p) => p.externalId))}::text[], ${array(people.map((p) => p.name))}::text[],
        ${array(people.map((p) => p.email))}::text[], ${array(people.map((p) => normalisePhone(p.phone, defaultCountry)))}::text[],
        ${array(people.map((p) => p.line1))}::text[], ${array(people.map((p) => p.postalCode))}::text[],
        ${array(people.map((p) => p.city))}::text[], ${array(people.map((p) => p.previous?.line1 ?? null))}::text[],
        ${array(people.map((p) => p.previous?.postalCode ?? null))}::text[])
        as t(external_id, name, email, phone, line1, postal_code, city, old_line1, old_postal_code)
    ), inserted as (
      insert into customers (external_id, name, email, phone) select external_id, name, email, phone from input
      returning id, external_id
    ), current_address as (
      insert into addresses (customer_id, kind, line1, city, postal_code, country, valid_from, source)
      select i.id, 'postal', p.line1, p.city, p.postal_code, 'DE', '2025-06-01T00:00:00Z', 'import'
      from inserted i join input p using (external_id)
    )
    insert into addresses (customer_id, kind, line1, city, postal_code, country, valid_from, valid_to, source)
    select i.id, 'postal', p.old_line1, p.city, p.old_postal_code, 'DE', '2020-01-01T00:00:00Z', '2025-06-01T00:00:00Z', 'import'
    from inserted i join input p using (external_id) where p.old_line1 is not null`);
}
