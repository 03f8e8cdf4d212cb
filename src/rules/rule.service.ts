// Rules a person approves (rule.ts): read with their evidence and tracked outcomes, changed with who and why.
import type { z } from '@hono/zod-openapi';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { latestRunId, listRules, updateRule, type RuleRow } from './rule.repository.ts';
import type { RetentionRule, RuleStatus, ruleChangeBody } from './rule.ts';

export { refreshRules } from './rule.repository.ts';

function present(row: RuleRow, latest: number | null): RetentionRule {
  return {
    id: Number(row.id),
    key: row.key,
    status: row.status,
    customerType: row.customer_type,
    experience: row.experience,
    action: row.action,
    text: row.edited_text ?? row.text,
    proposedText: row.text,
    evidence: row.evidence,
    history: row.history,
    outcomes: {
      decisions: row.decisions,
      bought: row.bought,
      boughtShare: row.decisions > 0 ? row.bought / row.decisions : null,
    },
    stale: latest !== null && row.evidence.runId !== latest,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at && new Date(row.decided_at).toISOString(),
    decisionReason: row.decision_reason,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function rules(deps: Deps, o: { status?: RuleStatus; id?: number } = {}): Promise<RetentionRule[]> {
  const [rows, latest] = await Promise.all([
    listRules(deps.db, { ...o, now: deps.clock.now(), days: deps.config.care.outcomeDays }),
    latestRunId(deps.db),
  ]);
  return rows.map((r) => present(r, latest));
}

/** Approves, edits or retires a rule; retiring needs a reason. Returns the rule as it now stands. */
export async function changeRule(deps: Deps, id: number, change: z.infer<typeof ruleChangeBody>, by: string) {
  if (change.status === undefined && change.text === undefined && change.action === undefined)
    throw new AppError('validation_failed', 'Say what changes: status, text or action', {
      issues: [{ path: 'status', message: 'one of status, text or action is required' }],
    });
  if (change.status === 'retired' && !change.reason)
    throw new AppError('validation_failed', 'Say why the rule is retired', {
      issues: [{ path: 'reason', message: 'required to retire a rule' }],
    });
  if (!(await updateRule(deps.db, id, { ...change, by, at: deps.clock.now() })))
    throw new AppError('not_found', `No rule ${id}`);
  const [rule] = await rules(deps, { id });
  return rule;
}
