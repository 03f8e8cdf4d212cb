import { and, desc, eq, getTableColumns, inArray, ne } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { exclusionSql, type HoldRules } from './programme.repository.ts';
import { listLimit } from '../shared/http.ts';
import { campaigns, templates, type Arm, type capturedMail as capturedMailTable } from './campaign.schema.ts';
import { flagReasonSql, flagStopsSql } from '../customers/index.ts';
import { controlArm, type CampaignStatus, type MemberStatus } from './campaign.ts';

type Fragment = ReturnType<typeof sql>;
export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignInsert = typeof campaigns.$inferInsert;
export type TemplateRow = typeof templates.$inferSelect;

// --- templates

export async function selectTemplate(db: Db, id: number): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(eq(templates.id, id));
  return row;
}

/** Templates by name (case aside), without their bodies. */
export async function selectTemplates(db: Db): Promise<Pick<TemplateRow, 'id' | 'name' | 'subject'>[]> {
  return db
    .select({ id: templates.id, name: templates.name, subject: templates.subject })
    .from(templates)
    .orderBy(sql`lower(${templates.name})`, templates.id)
    .limit(listLimit);
}

/** The oldest template of this name, if any. */
export async function templateIdByName(db: Db, name: string): Promise<number | undefined> {
  const [row] = await db
    .select({ id: templates.id })
    .from(templates)
    .where(eq(templates.name, name))
    .orderBy(templates.id)
    .limit(1);
  return row?.id;
}

export async function insertTemplate(db: Db, template: typeof templates.$inferInsert): Promise<number> {
  const [row] = await db.insert(templates).values(template).returning({ id: templates.id });
  return row.id;
}

/** Whether there was such a template to change. */
export async function updateTemplate(
  db: Db,
  id: number,
  change: Pick<TemplateRow, 'name' | 'subject' | 'body' | 'updatedAt'>,
): Promise<boolean> {
  const rows = await db.update(templates).set(change).where(eq(templates.id, id)).returning({ id: templates.id });
  return rows.length > 0;
}

// --- campaigns

/** One campaign row (a journey's own row too). */
export async function selectCampaign(db: Db, id: number): Promise<CampaignRow | undefined> {
  const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id));
  return row;
}

/** The latest 500 campaigns (not journeys' rows), newest first, with their members by send status. */
export async function selectCampaigns(db: Db): Promise<(CampaignRow & { counts: Record<string, number> | null })[]> {
  const counts = sql<Record<string, number> | null>`(select jsonb_object_agg(status, n) from (
    select status, count(*)::int as n from campaign_members m where m.campaign_id = ${campaigns.id} group by 1) s)`;
  return db
    .select({ ...getTableColumns(campaigns), counts })
    .from(campaigns)
    .where(ne(campaigns.status, 'journey'))
    .orderBy(desc(campaigns.id))
    .limit(500);
}

export async function insertCampaign(db: Db, campaign: CampaignInsert): Promise<number> {
  const [row] = await db.insert(campaigns).values(campaign).returning({ id: campaigns.id });
  return row.id;
}

/** Changes a campaign; with `whenStatus`, only while its status is one of those. Whether it changed. */
export async function updateCampaign(
  db: Db,
  id: number,
  change: Partial<CampaignInsert>,
  whenStatus?: CampaignStatus[],
): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set(change)
    .where(and(eq(campaigns.id, id), whenStatus && inArray(campaigns.status, whenStatus)))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

/** Scheduled campaigns whose time has come, the earliest first. */
export async function dueCampaigns(db: Db, now: Date): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    select id from campaigns where status = 'scheduled' and scheduled_at <= ${now.toISOString()}::timestamptz
    order by scheduled_at`,
  );
  return rows.map((r) => r.id);
}

type ExternalCampaign = Pick<
  CampaignRow,
  'name' | 'kind' | 'channel' | 'arms' | 'holdoutShare' | 'consentList' | 'timeZone' | 'createdBy'
> & { at: Date; members: { customerId: number; arm: string; sentAt: string }[] };

/**
 * A campaign run elsewhere, done as recorded: its row, and each member in the arm or the holdout
 * at the time the mail went. Returns the campaign's id.
 */
export async function insertExternalCampaign(db: Db, campaign: ExternalCampaign): Promise<number> {
  const now = campaign.at.toISOString();
  const members = campaign.members;
  const [{ id }] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, external,
      created_by, created_at, started_at, finished_at, members)
    values (${campaign.name}, ${campaign.kind}, ${campaign.channel}, ${JSON.stringify(campaign.arms)}::jsonb,
      ${campaign.holdoutShare}, ${campaign.consentList}, ${campaign.timeZone}, 'external', 'recorded through the API',
      ${campaign.createdBy}, ${now},
      (select min(t) from unnest(${array(members.map((m) => m.sentAt))}::timestamptz[]) t), ${now}, ${members.length})
    returning id`,
  );
  await db.execute(sql`
    insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
    select ${id}, u.customer_id, case when lower(u.arm) = ${controlArm} then ${controlArm} else u.arm end,
      case when lower(u.arm) = ${controlArm} then 'holdout' else 'external' end, u.at, u.at
    from unnest(${array(members.map((m) => m.customerId))}::bigint[], ${array(members.map((m) => m.arm))}::text[],
      ${array(members.map((m) => m.sentAt))}::timestamptz[]) as u(customer_id, arm, at)
    on conflict do nothing`);
  return id;
}

/**
 * Draws each member's arm before anything is sent: the segment less those the programme leaves out
 * (exclusionSql: the universal control group, other programmes' holdouts, open problems), in random
 * order, the first round(n × holdout) to the holdout, the rest to the arms by their shares. Exact
 * shares, random who. Returns the members drawn and those left out, by reason.
 */
export async function assignMembers(
  db: Db,
  campaign: { id: number; arms: Arm[]; holdoutShare: number },
  members: Fragment,
  at: Date,
  treatedStatus: MemberStatus,
  /** Without rules nobody is left out (tests and benchmarks that draw a whole table). */
  rules?: HoldRules,
): Promise<{ n: number; exclusions: Record<string, number> }> {
  const total = campaign.arms.reduce((s, a) => s + a.share, 0);
  let cumulative = 0;
  const cases = campaign.arms.map((arm, i) => {
    cumulative += arm.share;
    return i === campaign.arms.length - 1
      ? sql`else ${arm.name}`
      : sql`when t <= round(treated * ${cumulative / total}::float8) then ${arm.name}`;
  });
  const treatedArm =
    cases.length === 1 ? sql`${campaign.arms[0].name}::text` : sql`case ${sql.join(cases, sql` `)} end`;
  const [row] = await queryRows<{ n: number; exclusions: Record<string, number> }>(
    db,
    sql`
    with pool as (select distinct m.id from (${members}) m),
    judged as materialized (select id, ${rules ? exclusionSql(sql`pool.id`, rules) : sql`null::text`} as excluded from pool),
    shuffled as (select id, row_number() over (order by random()) as k, count(*) over () as n from judged where excluded is null),
    split as (select id, k <= round(n * ${campaign.holdoutShare}::float8) as control, k - round(n * ${campaign.holdoutShare}::float8) as t,
      n - round(n * ${campaign.holdoutShare}::float8) as treated from shuffled),
    added as (
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at)
      select ${campaign.id}, id, case when control then ${controlArm} else ${treatedArm} end, case when control then 'holdout' else ${treatedStatus} end, ${at.toISOString()}::timestamptz
      from split on conflict do nothing returning 1)
    select (select count(*)::int from added) as n,
      (select coalesce(jsonb_object_agg(excluded, c), '{}'::jsonb) from (select excluded, count(*)::int as c from judged where excluded is not null group by 1) e) as exclusions`,
  );
  return row;
}

/**
 * Call lists, store lists and mailing files carry the same suppression as email: flags, consent,
 * and the frequency cap, which counts every outbound channel.
 */
export async function suppressListed(
  db: Db,
  campaignId: number,
  consentList: string,
  mail: { consent: 'opt-in' | 'unless-withdrawn'; frequencyCap: number; frequencyDays: number },
  now: Date,
): Promise<void> {
  const since = sql`${now.toISOString()}::timestamptz - make_interval(days => ${mail.frequencyDays})`;
  await db.execute(sql`
    update campaign_members m set status = 'suppressed', reason = case
        when ${flagStopsSql(sql`c.flags`, 'marketing')} then ${flagReasonSql(sql`c.flags`, 'marketing')}
        when k.granted = false then 'unsubscribed'
        when k.granted is null and ${mail.consent} = 'opt-in' then 'no consent on record'
        else 'frequency cap: ' || r.sent || ' marketing messages in the last ' || ${mail.frequencyDays} || ' days' end
    from customers c left join lateral (
      select granted from consent_ledger k where k.customer_id = c.id and k.list = ${consentList}
      order by k.at desc, k.id desc limit 1
    ) k on true
    cross join lateral (select ${marketingSent(sql`c.id`, since, campaignId)} as sent) r
    where m.campaign_id = ${campaignId} and m.status = 'listed' and c.id = m.customer_id
      and (${flagStopsSql(sql`c.flags`, 'marketing')} or k.granted = false
        or (k.granted is null and ${mail.consent} = 'opt-in') or r.sent >= ${mail.frequencyCap})`);
}

/** What a cancelled campaign had queued is never sent. */
export async function cancelQueued(db: Db, campaignId: number): Promise<void> {
  await db.execute(sql`
    update campaign_members set status = 'suppressed', reason = 'campaign cancelled'
    where campaign_id = ${campaignId} and status = 'queued'`);
}

/** The treated members to send to, and how many of them are past sending (sent, suppressed, failed, unknown). */
export async function sendProgress(db: Db, campaignId: number): Promise<{ total: number; done: number }> {
  const [row] = await queryRows<{ total: number; done: number }>(
    db,
    sql`
    select count(*)::int as total, count(*) filter (where status not in ('queued', 'sending'))::int as done
    from campaign_members where campaign_id = ${campaignId} and status <> 'holdout'`,
  );
  return row;
}

/**
 * Marks a sending campaign done once nothing is queued or being sent; returns how many rows are
 * still being sent (by another worker).
 */
export async function closeWhenDrained(db: Db, campaignId: number, at: Date): Promise<number> {
  await db.execute(sql`
    update campaigns set status = 'done', finished_at = ${at.toISOString()}::timestamptz
    where id = ${campaignId} and status = 'sending'
      and not exists (
        select 1 from campaign_members where campaign_id = ${campaignId} and status in ('queued', 'sending'))`);
  const [{ left }] = await queryRows<{ left: number }>(
    db,
    sql`
    select count(*)::int as left from campaign_members where campaign_id = ${campaignId} and status = 'sending'`,
  );
  return left;
}

/** Rows this worker put back in the queue lose its claim, so the lease does not turn them unknown. */
export async function releaseRequeued(db: Db, campaignId: number, worker: string): Promise<void> {
  await db.execute(sql`
    update campaign_members set claimed_by = null, claimed_at = null
    where campaign_id = ${campaignId} and status = 'queued' and claimed_by = ${worker}`);
}

/** Rows claimed too long ago by a worker that never confirmed them: unknown, never sent again. */
export async function expireClaims(db: Db, campaignId: number, leaseSeconds: number, now: Date): Promise<number> {
  const rows = await queryRows<{ customer_id: number }>(
    db,
    sql`
    update campaign_members set status = 'unknown', reason = 'the sender stopped between claiming and confirming; not sent again'
    where campaign_id = ${campaignId} and status = 'sending' and claimed_at < ${now.toISOString()}::timestamptz - make_interval(secs => ${leaseSeconds})
    returning customer_id`,
  );
  return rows.length;
}

/** Claims up to `size` queued rows for this worker; another worker's claims are skipped, never shared. */
export async function claimBatch(
  db: Db,
  campaignId: number,
  worker: string,
  size: number,
  now: Date,
): Promise<{ customer_id: number; arm: string }[]> {
  // Materialized: as a plain subquery the planner may rescan it once per updated row, and each
  // rescan locks the next few, so one worker would claim the whole queue.
  return queryRows(
    db,
    sql`
    with q as materialized (select customer_id from campaign_members where campaign_id = ${campaignId} and status = 'queued' order by customer_id limit ${size} for update skip locked)
    update campaign_members m set status = 'sending', claimed_by = ${worker}, claimed_at = ${now.toISOString()}::timestamptz
    from q where m.campaign_id = ${campaignId} and m.customer_id = q.customer_id
    returning m.customer_id, m.arm`,
  );
}

/**
 * Marketing messages that reached `customer` after `since` on any channel, by campaigns (other than
 * `exceptCampaign`: mail sent, lists exported or marked done, campaigns recorded from elsewhere)
 * and journeys: what the frequency cap counts.
 */
const marketingSent = (customer: Fragment, since: Fragment, exceptCampaign = 0) => sql`(
  (select count(*)::int from campaign_members r where r.customer_id = ${customer} and r.status in ('sent', 'listed', 'external') and r.sent_at > ${since} and r.campaign_id <> ${exceptCampaign})
  + (select count(*)::int from journey_steps j where j.customer_id = ${customer} and j.outcome = 'sent' and j.marketing and j.at > ${since}))`;

export interface Recipient {
  customer_id: number;
  email: string | null;
  flags: string[];
  consent: boolean | null;
  address_suppressed: string | null;
  recent_sends: number;
}

/** What decides, at send time, whether each claimed customer may get the message. */
export async function recipients(
  db: Db,
  campaignId: number,
  customerIds: number[],
  consentList: string,
  since: Date,
): Promise<Recipient[]> {
  return queryRows<Recipient>(
    db,
    sql`
    select c.id as customer_id, c.email, c.flags,
      (select k.granted from consent_ledger k where k.customer_id = c.id and k.list = ${consentList} order by k.at desc, k.id desc limit 1) as consent,
      (select s.reason from email_suppressions s where s.email = lower(c.email)) as address_suppressed,
      ${marketingSent(sql`c.id`, sql`${since.toISOString()}::timestamptz`, campaignId)} as recent_sends
    from customers c where c.id = any(${array(customerIds)}::bigint[])`,
  );
}

export async function settleMembers(
  db: Db,
  campaignId: number,
  rows: {
    customerId: number;
    status: MemberStatus;
    reason: string | null;
    email: string | null;
    messageId: string | null;
    sentAt: Date | null;
  }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    update campaign_members m set status = u.status, reason = u.reason, email = u.email, message_id = u.message_id, sent_at = u.sent_at
    from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.status))}::text[], ${array(rows.map((r) => r.reason))}::text[],
      ${array(rows.map((r) => r.email))}::text[], ${array(rows.map((r) => r.messageId))}::text[], ${array(rows.map((r) => r.sentAt?.toISOString() ?? null))}::timestamptz[])
      as u(customer_id, status, reason, email, message_id, sent_at)
    where m.campaign_id = ${campaignId} and m.customer_id = u.customer_id`);
}

export async function memberCounts(db: Db, campaignId: number): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: number }>(
    db,
    sql`select status, count(*)::int as n from campaign_members where campaign_id = ${campaignId} group by 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Complaints per message sent over the last 30 days, across campaigns and journeys (the sender's reputation). */
export async function complaintRate(db: Db, now: Date): Promise<{ complaints: number; sent: number; rate: number }> {
  const [row] = await queryRows<{ complaints: number; sent: number }>(
    db,
    sql`
    select (select count(*)::int from email_suppressions where reason = 'complaint' and at > ${now.toISOString()}::timestamptz - interval '30 days') as complaints,
      (select count(*)::int from campaign_members where status = 'sent' and sent_at > ${now.toISOString()}::timestamptz - interval '30 days')
      + (select count(*)::int from journey_steps where outcome = 'sent' and at > ${now.toISOString()}::timestamptz - interval '30 days') as sent`,
  );
  return { ...row, rate: row.sent > 0 ? row.complaints / row.sent : 0 };
}

export interface Personal {
  customer_id: number;
  name: string | null;
  email: string | null;
  stage: string;
  external_id: string | null;
  attributes: Record<string, string | number | boolean>;
  interests: string[] | null;
  purchases: { product: string; category: string | null; date: string }[] | null;
  orders: number;
  last_order_date: string | null;
  next_order_date: string | null;
  p_alive: number | null;
  satisfaction: number | null;
}

/** What templates may say about each customer: profile, interests (top categories, the catalogue's when it has the SKU), latest purchases, the latest analysis. */
export async function personalisation(db: Db, customerIds: number[], runId: number | null): Promise<Personal[]> {
  return queryRows<Personal>(
    db,
    sql`
    select c.id as customer_id, c.name, c.email, c.stage, c.external_id, c.attributes, c.order_days::int as orders, (c.last_order_at at time zone 'UTC')::date::text as last_order_date,
      array(select coalesce(p.category, l.category) from order_lines l left join products p on p.sku = l.product
        where l.customer_id = c.id and coalesce(p.category, l.category) is not null group by 1 order by count(*) desc, 1 limit 3) as interests,
      (select jsonb_agg(b) from (select coalesce(p.name, l.product) as product, coalesce(p.category, l.category) as category, (o.ordered_at at time zone 'UTC')::date::text as date
        from order_lines l join orders o on o.customer_id = l.customer_id and o.id = l.order_id left join products p on p.sku = l.product
        where l.customer_id = c.id and l.product is not null order by o.ordered_at desc, l.line_no limit 5) b) as purchases,
      s.next_order_date::text as next_order_date, s.p_alive, s.satisfaction
    from customers c left join scores s on s.customer_id = c.id and s.run_id = ${runId ?? -1}
    where c.id = any(${array(customerIds)}::bigint[])`,
  );
}

/** A listed member as the list gives them, in the columns' order. */
export interface ListedMember {
  external_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  arm: string;
}

/** The treated members of a list campaign (phone, store, direct mail) with their current address. */
export async function listedMembers(db: Db, campaignId: number): Promise<ListedMember[]> {
  return queryRows<ListedMember>(
    db,
    sql`
    select c.external_id, c.name, c.email, c.phone, a.line1, a.line2, a.postal_code, a.city, a.region, a.country, m.arm
    from campaign_members m join customers c on c.id = m.customer_id
    left join lateral (select * from addresses a where a.customer_id = c.id and a.valid_to is null order by a.valid_from desc limit 1) a on true
    where m.campaign_id = ${campaignId} and m.status = 'listed' and not ${flagStopsSql(sql`c.flags`, 'marketing')}
    order by c.id limit 1000000`,
  );
}

/**
 * Members of a list not yet reached whose flags now stop marketing (flagged after the list was
 * made) are suppressed with the flag as the reason; returns how many by reason. One reached
 * earlier and flagged since stays reached, and listedMembers leaves them out of the file.
 */
export async function suppressFlaggedListed(db: Db, campaignId: number): Promise<Record<string, number>> {
  const rows = await queryRows<{ reason: string }>(
    db,
    sql`
    update campaign_members m set status = 'suppressed', reason = ${flagReasonSql(sql`c.flags`, 'marketing')}
    from customers c
    where m.campaign_id = ${campaignId} and m.status = 'listed' and m.sent_at is null and c.id = m.customer_id
      and ${flagStopsSql(sql`c.flags`, 'marketing')}
    returning m.reason`,
  );
  const counts: Record<string, number> = {};
  for (const { reason } of rows) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

/** The latest campaign or journey message a bounce or complaint answers: by its Message-ID, else the latest to the address. */
export async function messageAnswered(db: Db, feedback: { email: string; messageId?: string }) {
  const which = (alias: string) =>
    feedback.messageId
      ? sql`${sql.raw(alias)}.message_id = ${feedback.messageId}`
      : sql`lower(${sql.raw(alias)}.email) = ${feedback.email}`;
  const [member] = await queryRows<{ campaign_id: number; customer_id: number; name: string; consent_list: string }>(
    db,
    sql`
    select k.id as campaign_id, m.customer_id, k.name, k.consent_list from (
      select m.campaign_id, m.customer_id, m.sent_at from campaign_members m where ${which('m')}
      union all
      select j.campaign_id, s.customer_id, s.at from journey_steps s join journeys j on j.id = s.journey_id where s.outcome = 'sent' and ${which('s')}
    ) m join campaigns k on k.id = m.campaign_id order by m.sent_at desc nulls last limit 1`,
  );
  return member;
}

export async function suppressAddress(
  db: Db,
  row: { email: string; reason: string; at: Date; campaignId: number | null },
): Promise<void> {
  await db.execute(sql`insert into email_suppressions (email, reason, at, campaign_id) values (${row.email}, ${row.reason}, ${row.at.toISOString()}::timestamptz, ${row.campaignId})
    on conflict (email) do nothing`);
}

/** Outgoing touches per channel for each of the last twelve weeks (business time zone), and marketing mails sent in `days`. */
export async function customerPace(db: Db, customerId: number, options: { now: Date; timeZone: string; days: number }) {
  const now = options.now.toISOString();
  const week = sql`date_trunc('week', ${now}::timestamptz at time zone ${options.timeZone})`;
  const rows = await queryRows<{ week: string; channel: string | null; n: number }>(
    db,
    sql`
    with weeks as (select generate_series(${week} - interval '11 weeks', ${week}, interval '1 week')::date as week)
    select w.week::text as week, t.channel, count(t.channel)::int as n from weeks w
    left join touchpoints t on t.customer_id = ${customerId} and t.direction = 'out' and date_trunc('week', t.at at time zone ${options.timeZone})::date = w.week
      and t.at > ${now}::timestamptz - interval '13 weeks'
    group by 1, 2 order by 1`,
  );
  const [{ sent }] = await queryRows<{ sent: number }>(
    db,
    sql`select ${marketingSent(sql`${customerId}::bigint`, sql`${now}::timestamptz - make_interval(days => ${options.days})`)} as sent`,
  );
  const weeks = [...new Set(rows.map((r) => r.week))].map((w) => ({
    week: w,
    byChannel: Object.fromEntries(rows.filter((r) => r.week === w && r.channel).map((r) => [r.channel!, r.n])),
  }));
  return { weeks, sent };
}

/** Captured mail, newest first; `at` as the database writes it. */
export async function capturedMail(db: Db, options: { limit: number; to?: string }) {
  return queryRows<Omit<typeof capturedMailTable.$inferSelect, 'at'> & { at: string }>(
    db,
    sql`
    select id, at::text, "to", subject, headers, html, text from captured_mail ${options.to ? sql`where "to" = ${options.to}` : sql``} order by id desc limit ${options.limit}`,
  );
}

// --- what the mail pages read

export async function customerExists(db: Db, customerId: number): Promise<boolean> {
  return (await queryRows(db, sql`select 1 from customers where id = ${customerId}`)).length > 0;
}

/** The customer's latest answer on a consent list: true, false, or undefined when they never gave one. */
export async function latestConsent(db: Db, customerId: number, list: string): Promise<boolean | undefined> {
  const [row] = await queryRows<{ granted: boolean }>(
    db,
    sql`
    select granted from consent_ledger where customer_id = ${customerId} and list = ${list}
    order by at desc, id desc limit 1`,
  );
  return row?.granted;
}

/**
 * The lists a customer can choose (`marketing`, every list a campaign or journey mails, and any
 * they have an answer on) and where they stand on each; none for a customer who is not there.
 */
export async function consentChoices(db: Db, customerId: number): Promise<{ list: string; granted: boolean | null }[]> {
  return queryRows(
    db,
    sql`
    select l.list, (c.consent ->> l.list)::boolean as granted
    from customers c
    cross join lateral (
      select jsonb_object_keys(c.consent) union select consent_list from campaigns union select 'marketing'
    ) l(list)
    where c.id = ${customerId}
    order by l.list = 'marketing' desc, l.list limit 50`,
  );
}

export interface StartPreviewCounts {
  audience: number;
  exclusions: Record<string, number>;
  eligible: number;
  suppressed: Record<string, number>;
  overlap: { programme: string; n: number }[];
  /** A few reachable customers of the audience, to render a sample mail of each arm for. */
  samples: number[];
}

/**
 * What starting a campaign now would do, without doing it: the audience, who the programme leaves
 * out and why (other programmes' holdouts always named, whether or not they will be overridden),
 * who of the rest could not be reached now and why (as the send would decide), and how many are
 * already in a running programme: a journey pass under way, or another campaign's mail or list in
 * the last `rules.holdoutDays` days.
 */
export async function startPreviewCounts(
  db: Db,
  members: Fragment,
  rules: HoldRules,
  options: {
    channel: string;
    consentList: string;
    mail: { consent: 'opt-in' | 'unless-withdrawn'; frequencyCap: number; frequencyDays: number };
    samples: number;
  },
): Promise<StartPreviewCounts> {
  const now = sql`${rules.now.toISOString()}::timestamptz`;
  const since = sql`${now} - make_interval(days => ${options.mail.frequencyDays})`;
  const email = options.channel === 'email';
  const [row] = await queryRows<StartPreviewCounts>(
    db,
    sql`
    with pool as (select distinct m.id from (${members}) m),
    judged as materialized (select id, ${exclusionSql(sql`pool.id`, { ...rules, overrideHoldouts: false })} as excluded from pool),
    eligible as materialized (select id from judged where excluded is null or (${rules.overrideHoldouts} and excluded like 'held out of %')),
    reasons as materialized (
      select c.id, case
        when ${flagStopsSql(sql`c.flags`, 'marketing')} then ${flagReasonSql(sql`c.flags`, 'marketing')}
        when ${email} and c.email is null then 'no email address'
        when ${email} and exists (select 1 from email_suppressions s where s.email = lower(c.email)) then 'address suppressed after a bounce or complaint'
        when k.granted = false then 'unsubscribed'
        when k.granted is null and ${options.mail.consent} = 'opt-in' then 'no consent on record'
        when ${marketingSent(sql`c.id`, since)} >= ${options.mail.frequencyCap} then 'frequency cap'
      end as reason
      from eligible e join customers c on c.id = e.id
      left join lateral (select granted from consent_ledger k where k.customer_id = c.id and k.list = ${options.consentList}
        order by k.at desc, k.id desc limit 1) k on true)
    select (select count(*)::int from pool) as audience,
      (select coalesce(jsonb_object_agg(excluded, n), '{}'::jsonb) from (select excluded, count(*)::int as n from judged where excluded is not null group by 1) e) as exclusions,
      (select count(*)::int from eligible) as eligible,
      (select coalesce(jsonb_object_agg(reason, n), '{}'::jsonb) from (select reason, count(*)::int as n from reasons where reason is not null group by 1) s) as suppressed,
      (select coalesce(jsonb_agg(jsonb_build_object('programme', programme, 'n', n) order by n desc), '[]'::jsonb) from (
        select 'journey "' || j.name || '" (a pass under way)' as programme, count(distinct e.customer_id)::int as n
        from journey_enrolments e join journeys j on j.id = e.journey_id
        where e.status = 'active' and e.arm <> ${controlArm} and e.customer_id in (select id from eligible) group by j.name
        union all
        select 'campaign "' || k.name || '"', count(distinct m.customer_id)::int
        from campaign_members m join campaigns k on k.id = m.campaign_id
        where k.id <> ${rules.campaignId} and m.status in ('queued', 'sending', 'sent', 'listed', 'external')
          and coalesce(m.sent_at, m.assigned_at) > ${now} - make_interval(days => ${rules.holdoutDays})
          and m.customer_id in (select id from eligible) group by k.name) o) as overlap,
      array(select id from reasons where reason is null order by random() limit ${options.samples}) as samples`,
  );
  return { ...row, samples: row.samples.map(Number) };
}

/**
 * The treated members of a list campaign reached now (the list exported, or marked done): their
 * send time is set once, so they count against the frequency cap and as sent in the report. Returns
 * those newly reached, for their touchpoints.
 */
export async function markListed(
  db: Db,
  campaignId: number,
  at: Date,
): Promise<{ customer_id: number; arm: string; sent_at: Date }[]> {
  const rows = await queryRows<{ customer_id: number; arm: string; sent_at: string }>(
    db,
    sql`
    update campaign_members set sent_at = ${at.toISOString()}::timestamptz
    where campaign_id = ${campaignId} and status = 'listed' and sent_at is null
    returning customer_id, arm, sent_at::text`,
  );
  return rows.map((r) => ({ customer_id: Number(r.customer_id), arm: r.arm, sent_at: new Date(r.sent_at) }));
}
