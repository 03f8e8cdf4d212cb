import { queryRows, sql, type Db } from '../db/connection.ts';
import type { CustomerType, ProposedRule, RuleAction, RuleEvidence, RuleStatus } from './rule.ts';

export interface RuleRow {
  id: number;
  key: string;
  status: RuleStatus;
  customer_type: CustomerType;
  experience: string;
  action: RuleAction;
  text: string;
  edited_text: string | null;
  evidence: RuleEvidence;
  history: RuleEvidence[];
  updated_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  decisions: number;
  bought: number;
}

/**
 * Files what an analysis found: a new rule as proposed; a known one (approved, retired or not) gets
 * the new evidence, which is added to its history. A retired rule stays retired.
 */
export async function refreshRules(db: Db, rules: ProposedRule[], at: Date): Promise<void> {
  for (const r of rules)
    await db.execute(sql`
      insert into retention_rules (key, status, customer_type, experience, action, text, evidence, history, created_at, updated_at)
      values (${r.key}, 'proposed', ${JSON.stringify(r.customerType)}::jsonb, ${r.experience}, ${r.action}, ${r.text},
        ${JSON.stringify(r.evidence)}::jsonb, jsonb_build_array(${JSON.stringify(r.evidence)}::jsonb), ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz)
      on conflict (key) do update set text = excluded.text, evidence = excluded.evidence, updated_at = excluded.updated_at,
        history = case when retention_rules.history -> -1 ->> 'runId' = excluded.evidence ->> 'runId' then retention_rules.history
          else retention_rules.history || jsonb_build_array(excluded.evidence) end`);
}

/** Rules (newest evidence first within a status), each with the outcomes of the decisions it suggested at least `days` ago. */
export async function listRules(
  db: Db,
  o: { status?: RuleStatus; id?: number; now: Date; days: number },
): Promise<RuleRow[]> {
  return queryRows<RuleRow>(
    db,
    sql`
    select r.id, r.key, r.status, r.customer_type, r.experience, r.action, r.text, r.edited_text, r.evidence, r.history,
      r.updated_at::text, r.decided_by, r.decided_at::text, r.decision_reason,
      coalesce(d.decisions, 0)::int as decisions, coalesce(d.bought, 0)::int as bought
    from retention_rules r
    left join lateral (
      select count(*) as decisions, count(*) filter (where exists (select 1 from orders o where o.customer_id = w.customer_id
        and o.ordered_at > w.decided_at and o.ordered_at <= w.decided_at + make_interval(days => ${o.days}))) as bought
      from worklist_decisions w where w.rule_id = r.id and w.decision <> 'rejected'
        and w.decided_at <= ${o.now.toISOString()}::timestamptz - make_interval(days => ${o.days})
    ) d on true
    where ${o.status === undefined ? sql`true` : sql`r.status = ${o.status}`} and ${o.id === undefined ? sql`true` : sql`r.id = ${o.id}`}
    order by case r.status when 'approved' then 0 when 'proposed' then 1 else 2 end, abs((r.evidence ->> 'difference')::float8) desc, r.id`,
  );
}

export async function updateRule(
  db: Db,
  id: number,
  change: { status?: RuleStatus; text?: string; action?: RuleAction; reason?: string; by: string; at: Date },
): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    update retention_rules set
      status = coalesce(${change.status ?? null}, status),
      edited_text = coalesce(${change.text ?? null}, edited_text),
      action = coalesce(${change.action ?? null}, action),
      decision_reason = coalesce(${change.reason ?? null}, decision_reason),
      decided_by = ${change.by}, decided_at = ${change.at.toISOString()}::timestamptz, updated_at = ${change.at.toISOString()}::timestamptz
    where id = ${id} returning id`,
  );
  return rows.length === 1;
}

/** The latest done current analysis's id, to tell a rule whose evidence is older. */
export async function latestRunId(db: Db): Promise<number | null> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`select id from analysis_runs where status = 'done' and current order by id desc limit 1`,
  );
  return row?.id ?? null;
}
