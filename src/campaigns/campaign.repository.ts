import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { Arm } from './campaign.schema.ts';
import { controlArm, type MemberStatus } from './campaign.ts';

type Fragment = ReturnType<typeof sql>;

/**
 * Draws each member's arm before anything is sent: the segment in random order, the first
 * round(n × holdout) to the holdout, the rest to the arms by their shares. Exact shares, random who.
 */
export async function assignMembers(db: Db, campaign: { id: number; arms: Arm[]; holdoutShare: number }, members: Fragment, at: Date, treatedStatus: MemberStatus): Promise<number> {
  const total = campaign.arms.reduce((s, a) => s + a.share, 0);
  let cumulative = 0;
  const cases = campaign.arms.map((arm, i) => {
    cumulative += arm.share;
    return i === campaign.arms.length - 1 ? sql`else ${arm.name}` : sql`when t <= round(treated * ${cumulative / total}::float8) then ${arm.name}`;
  });
  const treatedArm = cases.length === 1 ? sql`${campaign.arms[0].name}::text` : sql`case ${sql.join(cases, sql` `)} end`;
  const [{ n }] = await queryRows<{ n: number }>(db, sql`
    with pool as (select distinct m.id from (${members}) m),
    shuffled as (select id, row_number() over (order by random()) as k, count(*) over () as n from pool),
    split as (select id, k <= round(n * ${campaign.holdoutShare}::float8) as control, k - round(n * ${campaign.holdoutShare}::float8) as t,
      n - round(n * ${campaign.holdoutShare}::float8) as treated from shuffled),
    added as (
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at)
      select ${campaign.id}, id, case when control then ${controlArm} else ${treatedArm} end, case when control then 'holdout' else ${treatedStatus} end, ${at.toISOString()}::timestamptz
      from split on conflict do nothing returning 1)
    select count(*)::int as n from added`);
  return n;
}

/** Rows claimed too long ago by a worker that never confirmed them: unknown, never sent again. */
export async function expireClaims(db: Db, campaignId: number, leaseSeconds: number, now: Date): Promise<number> {
  const rows = await queryRows<{ customer_id: number }>(db, sql`
    update campaign_members set status = 'unknown', reason = 'the sender stopped between claiming and confirming; not sent again'
    where campaign_id = ${campaignId} and status = 'sending' and claimed_at < ${now.toISOString()}::timestamptz - make_interval(secs => ${leaseSeconds})
    returning customer_id`);
  return rows.length;
}

/** Claims up to `size` queued rows for this worker; another worker's claims are skipped, never shared. */
export async function claimBatch(db: Db, campaignId: number, worker: string, size: number, now: Date): Promise<{ customer_id: number; arm: string }[]> {
  // Materialized: as a plain subquery the planner may rescan it once per updated row, and each
  // rescan locks the next few, so one worker would claim the whole queue.
  return queryRows(db, sql`
    with q as materialized (select customer_id from campaign_members where campaign_id = ${campaignId} and status = 'queued' order by customer_id limit ${size} for update skip locked)
    update campaign_members m set status = 'sending', claimed_by = ${worker}, claimed_at = ${now.toISOString()}::timestamptz
    from q where m.campaign_id = ${campaignId} and m.customer_id = q.customer_id
    returning m.customer_id, m.arm`);
}

/** Marketing messages sent to `customer` after `since`, by campaigns (other than `exceptCampaign`) and journeys: what the frequency cap counts. */
const marketingSent = (customer: Fragment, since: Fragment, exceptCampaign = 0) => sql`(
  (select count(*)::int from campaign_members r where r.customer_id = ${customer} and r.status = 'sent' and r.sent_at > ${since} and r.campaign_id <> ${exceptCampaign})
  + (select count(*)::int from journey_steps j where j.customer_id = ${customer} and j.outcome = 'sent' and j.marketing and j.at > ${since}))`;

export interface Recipient {
  customer_id: number; email: string | null; flags: string[]; consent: boolean | null; address_suppressed: string | null; recent_sends: number;
}

/** What decides, at send time, whether each claimed customer may get the message. */
export async function recipients(db: Db, campaignId: number, customerIds: number[], consentList: string, since: Date): Promise<Recipient[]> {
  return queryRows<Recipient>(db, sql`
    select c.id as customer_id, c.email, c.flags,
      (select k.granted from consent_ledger k where k.customer_id = c.id and k.list = ${consentList} order by k.at desc, k.id desc limit 1) as consent,
      (select s.reason from email_suppressions s where s.email = lower(c.email)) as address_suppressed,
      ${marketingSent(sql`c.id`, sql`${since.toISOString()}::timestamptz`, campaignId)} as recent_sends
    from customers c where c.id = any(${array(customerIds)}::bigint[])`);
}

export async function settleMembers(db: Db, campaignId: number, rows: { customerId: number; status: MemberStatus; reason: string | null; email: string | null; messageId: string | null; sentAt: Date | null }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    update campaign_members m set status = u.status, reason = u.reason, email = u.email, message_id = u.message_id, sent_at = u.sent_at
    from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.status))}::text[], ${array(rows.map((r) => r.reason))}::text[],
      ${array(rows.map((r) => r.email))}::text[], ${array(rows.map((r) => r.messageId))}::text[], ${array(rows.map((r) => r.sentAt?.toISOString() ?? null))}::timestamptz[])
      as u(customer_id, status, reason, email, message_id, sent_at)
    where m.campaign_id = ${campaignId} and m.customer_id = u.customer_id`);
}

export async function memberCounts(db: Db, campaignId: number): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: number }>(db, sql`select status, count(*)::int as n from campaign_members where campaign_id = ${campaignId} group by 1`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Complaints per message sent over the last 30 days, across campaigns and journeys (the sender's reputation). */
export async function complaintRate(db: Db, now: Date): Promise<{ complaints: number; sent: number; rate: number }> {
  const [row] = await queryRows<{ complaints: number; sent: number }>(db, sql`
    select (select count(*)::int from email_suppressions where reason = 'complaint' and at > ${now.toISOString()}::timestamptz - interval '30 days') as complaints,
      (select count(*)::int from campaign_members where status = 'sent' and sent_at > ${now.toISOString()}::timestamptz - interval '30 days')
      + (select count(*)::int from journey_steps where outcome = 'sent' and at > ${now.toISOString()}::timestamptz - interval '30 days') as sent`);
  return { ...row, rate: row.sent > 0 ? row.complaints / row.sent : 0 };
}

export interface Personal {
  customer_id: number; name: string | null; email: string | null; stage: string; external_id: string | null; attributes: Record<string, string | number | boolean>;
  interests: string[] | null; purchases: { product: string; category: string | null; date: string }[] | null; orders: number; last_order_date: string | null;
  next_order_date: string | null; p_alive: number | null; satisfaction: number | null;
}

/** What templates may say about each customer: profile, interests (top categories), latest purchases, the latest analysis. */
export async function personalisation(db: Db, customerIds: number[], runId: number | null): Promise<Personal[]> {
  return queryRows<Personal>(db, sql`
    select c.id as customer_id, c.name, c.email, c.stage, c.external_id, c.attributes, c.order_days::int as orders, (c.last_order_at at time zone 'UTC')::date::text as last_order_date,
      array(select l.category from order_lines l where l.customer_id = c.id and l.category is not null group by l.category order by count(*) desc, l.category limit 3) as interests,
      (select jsonb_agg(p) from (select l.product, l.category, (o.ordered_at at time zone 'UTC')::date::text as date from order_lines l join orders o on o.customer_id = l.customer_id and o.id = l.order_id
        where l.customer_id = c.id and l.product is not null order by o.ordered_at desc, l.line_no limit 5) p) as purchases,
      s.next_order_date::text as next_order_date, s.p_alive, s.satisfaction
    from customers c left join scores s on s.customer_id = c.id and s.run_id = ${runId ?? -1}
    where c.id = any(${array(customerIds)}::bigint[])`);
}

/** The treated members of a list campaign (phone, store, direct mail) with their current address. */
export async function listedMembers(db: Db, campaignId: number): Promise<Record<string, unknown>[]> {
  return queryRows(db, sql`
    select c.external_id, c.name, c.email, c.phone, a.line1, a.line2, a.postal_code, a.city, a.region, a.country, m.arm
    from campaign_members m join customers c on c.id = m.customer_id
    left join lateral (select * from addresses a where a.customer_id = c.id and a.valid_to is null order by a.valid_from desc limit 1) a on true
    where m.campaign_id = ${campaignId} and m.status = 'listed' order by c.id limit 1000000`);
}

/** The latest campaign or journey message a bounce or complaint answers: by its Message-ID, else the latest to the address. */
export async function messageAnswered(db: Db, feedback: { email: string; messageId?: string }) {
  const which = (alias: string) => (feedback.messageId ? sql`${sql.raw(alias)}.message_id = ${feedback.messageId}` : sql`lower(${sql.raw(alias)}.email) = ${feedback.email}`);
  const [member] = await queryRows<{ campaign_id: number; customer_id: number; name: string; consent_list: string }>(db, sql`
    select k.id as campaign_id, m.customer_id, k.name, k.consent_list from (
      select m.campaign_id, m.customer_id, m.sent_at from campaign_members m where ${which('m')}
      union all
      select j.campaign_id, s.customer_id, s.at from journey_steps s join journeys j on j.id = s.journey_id where s.outcome = 'sent' and ${which('s')}
    ) m join campaigns k on k.id = m.campaign_id order by m.sent_at desc nulls last limit 1`);
  return member;
}

export async function suppressAddress(db: Db, row: { email: string; reason: string; at: Date; campaignId: number | null }): Promise<void> {
  await db.execute(sql`insert into email_suppressions (email, reason, at, campaign_id) values (${row.email}, ${row.reason}, ${row.at.toISOString()}::timestamptz, ${row.campaignId})
    on conflict (email) do nothing`);
}

/** Outgoing touches per channel for each of the last twelve weeks (business time zone), and marketing mails sent in `days`. */
export async function customerPace(db: Db, customerId: number, options: { now: Date; timeZone: string; days: number }) {
  const now = options.now.toISOString();
  const week = sql`date_trunc('week', ${now}::timestamptz at time zone ${options.timeZone})`;
  const rows = await queryRows<{ week: string; channel: string | null; n: number }>(db, sql`
    with weeks as (select generate_series(${week} - interval '11 weeks', ${week}, interval '1 week')::date as week)
    select w.week::text as week, t.channel, count(t.channel)::int as n from weeks w
    left join touchpoints t on t.customer_id = ${customerId} and t.direction = 'out' and date_trunc('week', t.at at time zone ${options.timeZone})::date = w.week
      and t.at > ${now}::timestamptz - interval '13 weeks'
    group by 1, 2 order by 1`);
  const [{ sent }] = await queryRows<{ sent: number }>(db, sql`select ${marketingSent(sql`${customerId}::bigint`, sql`${now}::timestamptz - make_interval(days => ${options.days})`)} as sent`);
  const weeks = [...new Set(rows.map((r) => r.week))].map((w) => ({ week: w, byChannel: Object.fromEntries(rows.filter((r) => r.week === w && r.channel).map((r) => [r.channel!, r.n])) }));
  return { weeks, sent };
}

export async function capturedMail(db: Db, options: { limit: number; to?: string }) {
  return queryRows<Record<string, string | number | Record<string, string>>>(db, sql`
    select id, at::text, "to", subject, headers, html, text from captured_mail ${options.to ? sql`where "to" = ${options.to}` : sql``} order by id desc limit ${options.limit}`);
}
