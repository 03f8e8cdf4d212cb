// All SQL of the duplicate finder and the review queue. The finder works in one transaction with
// temporary tables (dropped at commit): the people with their current address, their blocking
// keys, the candidate pairs (only within a block, each member with its next few neighbours, so a
// huge block cannot explode), and the pairs found; duplicate_pairs is rewritten from them at the end.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { PersonFeatures } from './score.ts';
import type { CustomerSummary, PairStatus } from './duplicate.ts';

/** In a block, each member is paired with this many next members (ordered by name or place). */
export const blockWindow = 20;

// Lower case without accents, in SQL (no unaccent extension on PGlite): the letters Kept's
// customers are most likely to write, mapped to their plain forms.
const accented = 'áàâäãåāăąçćčďđéèêëēėęěíìîïīįłñńňóòôöõøōőřśšşťúùûüūůűųýÿźżž';
const plainLetters = 'aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorsssstuuuuuuuuyyzzz';
const plainSql = (value: ReturnType<typeof sql>) =>
  sql`translate(replace(lower(${value}), 'ß', 'ss'), ${accented}, ${plainLetters})`;
/** A token's sound key: its first letter, then its consonants without h and w, repeats collapsed (keller, keler: klr). */
const soundSql = (token: ReturnType<typeof sql>) =>
  sql`left(${token}, 1) || regexp_replace(regexp_replace(substr(${token}, 2), '[aeiouyhw]', '', 'g'), '(.)\\1+', '\\1', 'g')`;

/** Copies every customer with their current address into dup_people and returns how many. */
export async function collectPeople(tx: Db): Promise<number> {
  await tx.execute(sql`create temp table dup_people on commit drop as
    select c.id, c.name, c.email, c.phone, a.line1, a.postal_code, a.country,
      upper(regexp_replace(coalesce(a.postal_code, ''), '\\s', '', 'g')) as postcode,
      regexp_replace(regexp_replace(${plainSql(sql`coalesce(a.line1, '')`)}, 'stra?s?se\\M|str\\M\\.?', 'str', 'g'), '[^a-z0-9]', '', 'g') as street,
      ${plainSql(sql`coalesce(c.name, '')`)} as plain_name
    from customers c
    left join (
      select distinct on (customer_id) customer_id, line1, postal_code, country from addresses
      where valid_to is null order by customer_id, (kind = 'postal') desc, valid_from desc
    ) a on a.customer_id = c.id`);
  await tx.execute(sql`create unique index on dup_people (id)`);
  const [{ n }] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from dup_people`);
  return n;
}

/**
 * The blocking keys, each a text two records must share to be compared: the phone's last nine
 * digits (the same with or without country prefix or trunk zero), the email's name without +tag and
 * dots, the street and postcode, and postcode with each name token's sound key (order-free, typo-
 * tolerant). Then the candidate pairs: within each block, each member with its next `blockWindow`.
 */
export async function buildCandidates(tx: Db): Promise<number> {
  await tx.execute(sql`create temp table dup_tokens on commit drop as
    select id, postcode, street, t.token from dup_people,
      lateral regexp_split_to_table(plain_name, '[^a-z]+') as t(token)
    where postcode <> '' and length(t.token) >= 2`);
  await tx.execute(sql`create temp table dup_keys on commit drop as
    select 'phone' as kind, right(regexp_replace(phone, '\\D', '', 'g'), 9) as key, id, plain_name as ord from dup_people
      where length(regexp_replace(coalesce(phone, ''), '\\D', '', 'g')) >= 7
    union all
    select 'email', replace(regexp_replace(split_part(lower(email), '@', 1), '\\+.*$', ''), '.', ''), id, plain_name from dup_people
      where email like '%@%' and length(split_part(email, '@', 1)) >= 2
    union all
    select 'address', postcode || '|' || street, id, plain_name from dup_people where postcode <> '' and street <> ''
    union all
    select 'name', postcode || '|' || ${soundSql(sql`token`)}, id, street from dup_tokens`);
  // Only blocks with two or more members make pairs; number the members within each.
  await tx.execute(sql`create temp table dup_blocks on commit drop as
    select kind, key, id, row_number() over (partition by kind, key order by ord, id) as rn, count(*) over (partition by kind, key) as size
    from dup_keys where (kind, key) in (select kind, key from dup_keys group by kind, key having count(*) > 1)`);
  await tx.execute(sql`create index on dup_blocks (kind, key, rn)`);
  await tx.execute(sql`create temp table dup_candidates on commit drop as
    select distinct least(a.id, b.id) as first_id, greatest(a.id, b.id) as second_id
    from dup_blocks a
    cross join lateral generate_series(1, least(${blockWindow}::int, (a.size - a.rn)::int)) as step(d)
    join dup_blocks b on b.kind = a.kind and b.key = a.key and b.rn = a.rn + step.d
    where a.id <> b.id`);
  await tx.execute(sql`create unique index on dup_candidates (first_id, second_id)`);
  const [{ n }] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from dup_candidates`);
  return n;
}

export interface CandidatePair {
  firstId: number;
  secondId: number;
  first: PersonFeatures;
  second: PersonFeatures;
}

interface CandidateRow {
  first_id: number;
  second_id: number;
  a_name: string | null;
  a_email: string | null;
  a_phone: string | null;
  a_line1: string | null;
  a_postal_code: string | null;
  a_country: string | null;
  b_name: string | null;
  b_email: string | null;
  b_phone: string | null;
  b_line1: string | null;
  b_postal_code: string | null;
  b_country: string | null;
}

/** The next `limit` candidate pairs after (afterFirst, afterSecond), with both people's features. */
export async function candidateChunk(
  tx: Db,
  after: { firstId: number; secondId: number },
  limit: number,
): Promise<CandidatePair[]> {
  const rows = await queryRows<CandidateRow>(
    tx,
    sql`select p.first_id, p.second_id,
      a.name as a_name, a.email as a_email, a.phone as a_phone, a.line1 as a_line1, a.postal_code as a_postal_code, a.country as a_country,
      b.name as b_name, b.email as b_email, b.phone as b_phone, b.line1 as b_line1, b.postal_code as b_postal_code, b.country as b_country
    from (select first_id, second_id from dup_candidates where (first_id, second_id) > (${after.firstId}, ${after.secondId})
          order by first_id, second_id limit ${limit}) p
    join dup_people a on a.id = p.first_id
    join dup_people b on b.id = p.second_id
    order by p.first_id, p.second_id`,
  );
  return rows.map((r) => ({
    firstId: Number(r.first_id),
    secondId: Number(r.second_id),
    first: {
      name: r.a_name,
      email: r.a_email,
      phone: r.a_phone,
      line1: r.a_line1,
      postalCode: r.a_postal_code,
      country: r.a_country,
    },
    second: {
      name: r.b_name,
      email: r.b_email,
      phone: r.b_phone,
      line1: r.b_line1,
      postalCode: r.b_postal_code,
      country: r.b_country,
    },
  }));
}

export interface FoundPair {
  firstId: number;
  secondId: number;
  score: number;
  evidence: string[];
}

export async function createFoundTable(tx: Db): Promise<void> {
  await tx.execute(
    sql`create temp table dup_found (first_id bigint, second_id bigint, score numeric(4, 3), evidence jsonb) on commit drop`,
  );
}

export async function addFound(tx: Db, pairs: FoundPair[]): Promise<void> {
  if (pairs.length === 0) return;
  await tx.execute(sql`insert into dup_found (first_id, second_id, score, evidence)
    select f, s, sc, e::jsonb from unnest(${array(pairs.map((p) => p.firstId))}::bigint[], ${array(pairs.map((p) => p.secondId))}::bigint[],
      ${array(pairs.map((p) => p.score))}::numeric[], ${array(pairs.map((p) => JSON.stringify(p.evidence)))}::text[]) as t(f, s, sc, e)`);
}

/**
 * Rewrites duplicate_pairs from dup_found: a pair decided `distinct` (or merged) stays as decided;
 * open and later pairs get the new score and evidence; open pairs no longer found go.
 */
export async function saveFound(tx: Db): Promise<{ added: number; updated: number; removed: number; decided: number }> {
  const [removed] = await queryRows<{ n: number }>(
    tx,
    sql`with gone as (delete from duplicate_pairs p where p.status = 'open'
      and not exists (select 1 from dup_found f where f.first_id = p.first_id and f.second_id = p.second_id) returning 1)
    select count(*)::int as n from gone`,
  );
  const [counts] = await queryRows<{ added: number; updated: number; decided: number }>(
    tx,
    sql`with known as (
      select f.first_id, f.second_id, p.status from dup_found f
      left join duplicate_pairs p on p.first_id = f.first_id and p.second_id = f.second_id
    ), written as (
      insert into duplicate_pairs (first_id, second_id, score, evidence)
      select first_id, second_id, score, evidence from dup_found
      on conflict (first_id, second_id) do update set score = excluded.score, evidence = excluded.evidence
        where duplicate_pairs.status in ('open', 'later')
      returning 1
    )
    select count(*) filter (where status is null)::int as added,
      count(*) filter (where status in ('open', 'later'))::int as updated,
      count(*) filter (where status not in ('open', 'later'))::int as decided,
      (select count(*) from written)::int as n
    from known`,
  );
  return { added: counts.added, updated: counts.updated, removed: removed.n, decided: counts.decided };
}

const summarySql = (alias: string) =>
  sql.raw(`json_build_object(
  'id', ${alias}.id, 'externalId', ${alias}.external_id, 'name', ${alias}.name, 'email', ${alias}.email, 'phone', ${alias}.phone,
  'line1', (select line1 from addresses x where x.customer_id = ${alias}.id and x.valid_to is null order by (x.kind = 'postal') desc, x.valid_from desc limit 1),
  'postalCode', (select postal_code from addresses x where x.customer_id = ${alias}.id and x.valid_to is null order by (x.kind = 'postal') desc, x.valid_from desc limit 1),
  'city', (select city from addresses x where x.customer_id = ${alias}.id and x.valid_to is null order by (x.kind = 'postal') desc, x.valid_from desc limit 1),
  'orders', ${alias}.order_count, 'lastOrderAt', ${alias}.last_order_at, 'stage', ${alias}.stage, 'flags', ${alias}.flags)`);

export interface PairRow {
  score: string;
  evidence: string[];
  status: PairStatus;
  found_at: Date | string;
  decided_at: Date | string | null;
  decided_by: string | null;
  first: CustomerSummary;
  second: CustomerSummary;
}

/** One page of pairs of a status, highest score first, with both customers' summaries. */
export async function pairPage(
  db: Db,
  statuses: readonly PairStatus[],
  page: { offset: number; limit: number; minScore?: number },
): Promise<{ rows: PairRow[]; total: number }> {
  const rows = await queryRows<PairRow>(
    db,
    sql`select p.score::text as score, p.evidence, p.status, p.found_at, p.decided_at, p.decided_by,
      ${summarySql('a')} as first, ${summarySql('b')} as second
    from duplicate_pairs p join customers a on a.id = p.first_id join customers b on b.id = p.second_id
    where p.status = any(${array(statuses)}::text[]) and p.score >= ${page.minScore ?? 0}
    order by p.score desc, p.first_id, p.second_id
    offset ${page.offset} limit ${page.limit}`,
  );
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from duplicate_pairs p join customers a on a.id = p.first_id join customers b on b.id = p.second_id
      where p.status = any(${array(statuses)}::text[]) and p.score >= ${page.minScore ?? 0}`,
  );
  return { rows, total: n };
}

/**
 * The next `limit` pairs after a cursor in queue order (score down, then the numbers), without a
 * count: for listing every pair of a big store page by page without offsets.
 */
export async function pairsAfter(
  db: Db,
  statuses: readonly PairStatus[],
  minScore: number,
  after: { score: string; firstId: number; secondId: number } | null,
  limit: number,
): Promise<(PairRow & { first_id: number; second_id: number })[]> {
  return queryRows(
    db,
    sql`select p.first_id, p.second_id, p.score::text as score, p.evidence, p.status, p.found_at, p.decided_at, p.decided_by,
      ${summarySql('a')} as first, ${summarySql('b')} as second
    from (select * from duplicate_pairs p where p.status = any(${array(statuses)}::text[]) and p.score >= ${minScore}
      ${after ? sql`and (p.score < ${after.score}::numeric or (p.score = ${after.score}::numeric and (p.first_id, p.second_id) > (${after.firstId}, ${after.secondId})))` : sql``}
      order by p.score desc, p.first_id, p.second_id limit ${limit}) p
    join customers a on a.id = p.first_id join customers b on b.id = p.second_id
    order by p.score desc, p.first_id, p.second_id`,
  );
}

export async function pairStatus(db: Db, firstId: number, secondId: number): Promise<PairStatus | null> {
  const [row] = await queryRows<{ status: PairStatus }>(
    db,
    sql`select status from duplicate_pairs where first_id = ${firstId} and second_id = ${secondId}`,
  );
  return row?.status ?? null;
}

export async function setPairStatus(
  db: Db,
  firstId: number,
  secondId: number,
  status: PairStatus,
  by: string,
): Promise<void> {
  await db.execute(sql`update duplicate_pairs set status = ${status}, decided_at = now(), decided_by = ${by}
    where first_id = ${firstId} and second_id = ${secondId}`);
}
