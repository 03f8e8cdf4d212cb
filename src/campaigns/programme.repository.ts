// SQL of the programme's rules: who is in the universal control group, who is held out of another
// programme's measurement window, who has a problem still open. Each is a fragment over a
// customer id, so a campaign start applies them to its whole audience in one statement.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { openStatuses } from '../support/index.ts';
import { controlArm } from './campaign.ts';
import { universalControlLabel, type Hold } from './programme.ts';

type Fragment = ReturnType<typeof sql>;

/** True for a customer in the universal control group (programme.ts: the same hash). */
export const inUniversalControlSql = (id: Fragment, share: number): Fragment =>
  share > 0
    ? sql`((('x' || substr(md5(${universalControlLabel} || (${id})::text), 1, 8))::bit(32)::bigint % 10000) < ${Math.round(share * 10_000)})`
    : sql`false`;

/**
 * The programme a customer is held out of now, in words, or null: the holdout of a campaign
 * (other than `campaignId`) assigned in the last `days`, or of a journey (other than the one whose
 * campaign row is `campaignId`) whose pass is under way or ended in the last `days`.
 */
export const heldOutElsewhereSql = (
  id: Fragment,
  options: { campaignId: number; now: Date; days: number },
): Fragment => {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  const since = sql`${now} - make_interval(days => ${options.days})`;
  return sql`coalesce(
    (select 'held out of campaign "' || k.name || '" until ' || to_char((h.assigned_at + make_interval(days => ${options.days})) at time zone 'UTC', 'YYYY-MM-DD')
      from campaign_members h join campaigns k on k.id = h.campaign_id
      where h.customer_id = ${id} and h.status = 'holdout' and h.campaign_id <> ${options.campaignId} and h.assigned_at > ${since} and h.assigned_at <= ${now}
      order by h.assigned_at desc limit 1),
    (select 'held out of journey "' || j.name || '"' || case when e.status = 'active' then ' while their pass is under way'
        else ' until ' || to_char((e.finished_at + make_interval(days => ${options.days})) at time zone 'UTC', 'YYYY-MM-DD') end
      from journey_enrolments e join journeys j on j.id = e.journey_id
      where e.customer_id = ${id} and e.arm = ${controlArm} and j.campaign_id <> ${options.campaignId}
        and (e.status = 'active' or (e.status in ('completed', 'exited') and e.finished_at > ${since}))
      order by e.entered_at desc limit 1))`;
};

/**
 * The customer's open problem, in words, or null: a ticket still open and touched in the last
 * `days`, or an incident in the last `days` that nobody on our side has followed up yet (a contact,
 * an apology or call, a note, a worklist decision, a task done: what the experiences count).
 */
export const openProblemSql = (id: Fragment, options: { now: Date; days: number }): Fragment => {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  const since = sql`${now} - make_interval(days => ${options.days})`;
  return sql`coalesce(
    (select 'ticket "' || coalesce(t.subject, t.category, t.external_id) || '" is ' || replace(t.status, '_', ' ')
      from tickets t where t.customer_id = ${id} and t.status = any(${array(openStatuses)}::text[]) and greatest(t.opened_at, t.updated_at) > ${since}
      order by t.opened_at desc limit 1),
    (select replace(i.kind, '_', ' ') || ' on ' || to_char(i.at at time zone 'UTC', 'YYYY-MM-DD') || ', not followed up yet'
      from incidents i where i.customer_id = ${id} and i.at > ${since} and i.at <= ${now}
        and not exists (select 1 from touchpoints f where f.customer_id = i.customer_id and f.direction = 'out' and f.kind in ('agent_contact', 'apology', 'call') and f.at > i.at)
        and not exists (select 1 from notes n where n.customer_id = i.customer_id and coalesce(n.feeling, 0) >= 0 and n.at > i.at)
        and not exists (select 1 from worklist_decisions d where d.customer_id = i.customer_id and d.decided_at > i.at)
        and not exists (select 1 from tasks k where k.customer_id = i.customer_id and k.status = 'done' and k.done_at > i.at)
      order by i.at desc limit 1))`;
};

/** Whichever of the three holds a customer back from marketing now (universal control first), or null. */
export async function programmeHold(
  db: Db,
  customerId: number,
  options: {
    campaignId: number;
    now: Date;
    universalControl: number;
    holdoutDays: number;
    waitForProblems: boolean;
    problemDays: number;
  },
): Promise<Hold | null> {
  const id = sql`${customerId}::bigint`;
  const [row] = await queryRows<{ control: boolean; held: string | null; problem: string | null }>(
    db,
    sql`select ${inUniversalControlSql(id, options.universalControl)} as control,
      ${heldOutElsewhereSql(id, { campaignId: options.campaignId, now: options.now, days: options.holdoutDays })} as held,
      ${options.waitForProblems ? openProblemSql(id, { now: options.now, days: options.problemDays }) : sql`null::text`} as problem`,
  );
  if (row.control) return { kind: 'universal_control', reason: 'universal control group' };
  if (row.held) return { kind: 'held_out_elsewhere', reason: row.held };
  if (row.problem) return { kind: 'open_problem', reason: `open problem: ${row.problem}` };
  return null;
}

export interface HoldRules {
  campaignId: number;
  now: Date;
  universalControl: number;
  holdoutDays: number;
  waitForProblems: boolean;
  problemDays: number;
  /** A person chose to include customers held out of other programmes (the contamination is counted in both reports). */
  overrideHoldouts: boolean;
}

/**
 * Why a customer of a campaign's audience is left out, as a text expression (null: not left out):
 * the universal control group, the holdout of another programme (named, unless overridden), an open
 * problem. The same words key the campaign's exclusions and the start preview.
 */
export const exclusionSql = (id: Fragment, rules: HoldRules): Fragment => sql`coalesce(
    case when ${inUniversalControlSql(id, rules.universalControl)} then 'universal control group' end,
    ${rules.overrideHoldouts ? sql`null::text` : sql`regexp_replace(${heldOutElsewhereSql(id, { campaignId: rules.campaignId, now: rules.now, days: rules.holdoutDays })}, ' (until|while) .*$', '')`},
    case when ${rules.waitForProblems ? sql`${openProblemSql(id, { now: rules.now, days: rules.problemDays })} is not null` : sql`false`} then 'open problem' end)`;
