// The agent's worklist: the system suggests, the person decides; both are recorded.
import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import { flagsStopping, upsertNotes } from '../customers/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { rules as listRules, ruleFits, type RetentionRule } from '../rules/index.ts';
import {
  approveDecision,
  customerExists,
  factsOf,
  finishTask,
  gestureFacts,
  insertDecision,
  worklist,
  worklistContext,
  type WorklistRow,
} from './worklist.repository.ts';
import { giftFor, suggest, type contactBody, type decisionBody, type gestureBody } from './worklist.ts';

export { decisionOutcomes, listTasks, pendingApprovals } from './worklist.repository.ts';

export const worklistStages = ['at_risk', 'lapsed'] as const;

const round2 = (v: number) => Math.round(v * 100) / 100;
const bandOf = (spend: number, cuts: [number, number] | null) =>
  !cuts || spend <= 0 ? null : spend < cuts[0] ? 'low' : spend < cuts[1] ? 'mid' : 'high';

/** The approved rule that fits the customer: their type, and an experience of the rule's kind in the last 90 days. */
function ruleOf(row: WorklistRow, approved: RetentionRule[], cuts: [number, number] | null) {
  const stage = row.frequency > 0 ? 'customer' : 'trial';
  const band = bandOf(row.historic_value, cuts) ?? '';
  const rule = approved.find(
    (r) => (row.recent_kinds ?? []).includes(r.experience) && ruleFits(r.customerType, stage, band, null),
  );
  return rule ? { id: rule.id, action: rule.action, text: rule.text, experience: rule.experience } : null;
}

function present(deps: Deps, row: WorklistRow, now: Date, approved: RetentionRule[], cuts: [number, number] | null) {
  const facts = factsOf(row, now, ruleOf(row, approved, cuts));
  const suggestion = row.holdout
    ? {
        action: 'nothing' as const,
        giftValue: null,
        reason: `held out at random (the worklist's ${Math.round(deps.config.care.worklistHoldout * 100)} % holdout) so we learn what the suggestions achieve; act only if something needs putting right, and say why`,
        ruleId: null,
      }
    : suggest(facts, deps.config.care.giftAllowance);
  return {
    customerId: row.customer_id,
    externalId: row.external_id,
    name: row.name,
    email: row.email,
    city: row.city,
    stage: row.stage,
    flags: row.flags,
    pAlive: row.p_alive,
    pBuy90: row.p_buy_90,
    valueAtStake: row.value_at_stake,
    uplift: row.uplift,
    upliftSource: row.uplift_source,
    incrementalValue: row.incremental_value === null ? null : round2(row.incremental_value),
    priority: round2(row.value_at_stake * (1 - row.p_alive)),
    holdout: row.holdout,
    reasons: row.reasons,
    drivers: row.drivers ?? [],
    openTicket: row.open_ticket,
    badExperience: row.bad_experience,
    unhappy: row.unhappy,
    exitAnswer: row.exit_answer,
    problem: row.problem,
    suggestion,
    runId: row.run_id,
  };
}

async function suggesting(deps: Deps) {
  const [approved, context] = await Promise.all([
    listRules(deps, { status: 'approved' }),
    worklistContext(deps.db, deps.clock.now()),
  ]);
  return { approved, context };
}

export async function listWorklist(
  deps: Deps,
  options: {
    stages: string[];
    assignee?: string;
    holdout: 'exclude' | 'include';
    show: 'worth_acting' | 'all';
    limit: number;
    offset: number;
  },
) {
  const now = deps.clock.now();
  const [rows, { approved, context }] = await Promise.all([worklist(deps.db, { now, ...options }), suggesting(deps)]);
  const items = rows.map((row) => present(deps, row, now, approved, context.cuts));
  return {
    items,
    ranking: {
      // Once an analysis has estimated uplift (its report names a source), the list is ranked by incremental value.
      by: context.source !== null ? ('incremental_value' as const) : ('value_at_risk' as const),
      upliftSource: context.source,
      holdoutShare: deps.config.care.worklistHoldout,
      heldOut: context.held_out,
      leftOff: context.left_off,
      saving: context.policy,
    },
  };
}

/**
 * Records an agent's decision on the suggestion for a customer on the worklist: accepted, changed
 * (to another action, with a reason) or rejected (with a reason). A gift over the agent's allowance
 * waits for approval.
 */
export async function decide(deps: Deps, principal: Principal, customerId: number, body: z.infer<typeof decisionBody>) {
  const now = deps.clock.now();
  const [row] = await worklist(deps.db, {
    now,
    stages: [...worklistStages],
    customerId,
    holdout: 'include',
    show: 'all',
    limit: 1,
    offset: 0,
  });
  if (!row)
    throw new AppError(
      'conflict',
      `Customer ${customerId} is not on the worklist (not at risk or lapsed, or decided in the last 30 days)`,
    );
  const { approved, context } = await suggesting(deps);
  const item = present(deps, row, now, approved, context.cuts);
  if (row.holdout && body.decision !== 'rejected' && !body.reason)
    throw new AppError('validation_failed', 'This customer is in the random holdout: say why you act anyway', {
      issues: [{ path: 'reason', message: 'required to act on a customer in the holdout' }],
    });
  if (body.decision !== 'accepted' && !body.reason)
    throw new AppError('validation_failed', 'Say why the suggestion is changed or rejected', {
      issues: [{ path: 'reason', message: 'required when changed or rejected' }],
    });
  // A change is another action, or another value for the suggested gift.
  const otherGift =
    body.action === 'gift' && body.giftValue !== undefined && body.giftValue !== item.suggestion.giftValue;
  if (body.decision === 'changed' && (!body.action || (body.action === item.suggestion.action && !otherGift))) {
    throw new AppError('validation_failed', 'A changed decision names a different action or gift value', {
      issues: [{ path: 'action', message: `an action other than ${item.suggestion.action}, or another gift value` }],
    });
  }
  const action =
    body.decision === 'accepted' ? item.suggestion.action : body.decision === 'changed' ? body.action! : 'nothing';
  // Something sent to them (a gift, an offer, a replacement) is refused under a flag that stops gifts.
  const stopped =
    action === 'call' || action === 'nothing' ? [] : flagsStopping('gift').filter((f) => row.flags.includes(f));
  if (stopped.length)
    throw new AppError(
      'conflict',
      `No ${action.replaceAll('_', ' ')} for customer ${customerId}: flagged ${stopped.join(', ').replaceAll('_', ' ')}`,
    );
  const allowance = deps.config.care.giftAllowance;
  const giftValue =
    action !== 'gift'
      ? null
      : body.decision === 'changed' && body.giftValue !== undefined
        ? body.giftValue
        : (item.suggestion.giftValue ?? giftFor(row.expected_order_value, allowance));
  const needsApproval = giftValue !== null && giftValue > allowance;
  const id = await insertDecision(deps.db, {
    customerId,
    runId: item.runId,
    suggestedAction: item.suggestion.action,
    suggestionReason: item.suggestion.reason,
    decision: body.decision,
    action,
    giftValue,
    reason: body.reason ?? null,
    agent: principalName(principal),
    at: now,
    needsApproval,
    valueAtStake: row.value_at_stake,
    ruleId: item.suggestion.ruleId,
    source: row.holdout ? 'holdout_override' : 'worklist',
    incrementalValue: item.incrementalValue,
  });
  return { id, customerId, decision: body.decision, action, giftValue, needsApproval, suggestion: item.suggestion };
}

/**
 * A gesture an agent gives any customer, on the worklist or not (a gift, an offer, an apology with
 * a replacement): recorded like a worklist decision; over the allowance it waits for approval.
 * Never to a customer whose flags stop gifts (src/customers/flags.ts: deceased, do-not-contact, moved, undeliverable).
 */
export async function giveGesture(
  deps: Deps,
  principal: Principal,
  customerId: number,
  body: z.infer<typeof gestureBody>,
) {
  const facts = await gestureFacts(deps.db, customerId);
  if (!facts) throw new AppError('not_found', `No customer ${customerId}`);
  const blocked = flagsStopping('gift').filter((f) => facts.flags.includes(f));
  if (blocked.length)
    throw new AppError(
      'conflict',
      `No gesture for customer ${customerId}: flagged ${blocked.join(', ').replaceAll('_', ' ')}`,
    );
  const needsApproval = body.giftValue > deps.config.care.giftAllowance;
  const id = await insertDecision(deps.db, {
    customerId,
    runId: facts.run_id,
    suggestedAction: 'nothing',
    suggestionReason: 'a gesture given outside the worklist',
    decision: 'changed',
    action: body.action,
    giftValue: body.giftValue,
    reason: body.reason,
    agent: principalName(principal),
    at: deps.clock.now(),
    needsApproval,
    valueAtStake: facts.value_at_stake,
    ruleId: null,
    source: facts.holdout ? 'holdout_override' : 'gesture',
    incrementalValue: null,
  });
  return {
    id,
    customerId,
    action: body.action,
    giftValue: body.giftValue,
    needsApproval,
    heldOut: facts.holdout === true,
  };
}

/** Approves a gesture over the allowance: admins and marketers only. */
export async function approve(deps: Deps, principal: Principal, customerId: number, id: number) {
  if (!(await approveDecision(deps.db, customerId, id, principalName(principal), deps.clock.now())))
    throw new AppError('conflict', 'No decision waiting for approval with that id');
}

/** A contact with a customer as the agent saw it: what was said and how the customer felt. */
export async function recordContact(
  deps: Deps,
  principal: Principal,
  customerId: number,
  body: z.infer<typeof contactBody>,
) {
  if (!(await customerExists(deps.db, customerId))) throw new AppError('not_found', `No customer ${customerId}`);
  const externalId = `contact:${randomUUID()}`;
  await upsertNotes(deps.db, [
    {
      customerId,
      externalId,
      at: deps.clock.now(),
      body: `${body.direction === 'in' ? 'Contacted us' : 'We contacted them'} by ${body.channel.replace('_', ' ')}: ${body.summary}`,
      author: principalName(principal),
      channel: body.channel,
      feeling: body.feeling,
    },
  ]);
  return { externalId };
}

/** Marks a task done with what was done; a done task counts as a follow-up of the customer's bad experience. */
export async function completeTask(deps: Deps, principal: Principal, id: number, outcome: string) {
  const done = await finishTask(deps.db, { id, by: principalName(principal), outcome, at: deps.clock.now() });
  if (!done) throw new AppError('not_found', `No open task ${id}`);
  return { id, customerId: done.customer_id, status: 'done' as const };
}
