// The agent's worklist: the system suggests, the person decides; both are recorded.
import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import { upsertNotes } from '../customers/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import {
  approveDecision,
  customerExists,
  factsOf,
  finishTask,
  insertDecision,
  worklist,
  type WorklistRow,
} from './worklist.repository.ts';
import { giftFor, suggest, type contactBody, type decisionBody } from './worklist.ts';

export { decisionOutcomes, listTasks, pendingApprovals } from './worklist.repository.ts';

export const worklistStages = ['at_risk', 'lapsed'] as const;

function present(deps: Deps, row: WorklistRow, now: Date) {
  const facts = factsOf(row, now);
  return {
    customerId: row.customer_id,
    name: row.name,
    email: row.email,
    stage: row.stage,
    pAlive: row.p_alive,
    valueAtStake: row.value_at_stake,
    priority: Math.round(row.value_at_stake * (1 - row.p_alive) * 100) / 100,
    reasons: row.reasons,
    openTicket: row.open_ticket,
    badExperience: row.bad_experience,
    unhappy: row.unhappy,
    suggestion: suggest(facts, deps.config.care.giftAllowance),
    runId: row.run_id,
  };
}

export async function listWorklist(
  deps: Deps,
  options: { stages: string[]; assignee?: string; limit: number; offset: number },
) {
  const now = deps.clock.now();
  const rows = await worklist(deps.db, { now, ...options });
  return rows.map((row) => present(deps, row, now));
}

/**
 * Records an agent's decision on the suggestion for a customer on the worklist: accepted, changed
 * (to another action, with a reason) or rejected (with a reason). A gift over the agent's allowance
 * waits for approval.
 */
export async function decide(deps: Deps, principal: Principal, customerId: number, body: z.infer<typeof decisionBody>) {
  const now = deps.clock.now();
  const [row] = await worklist(deps.db, { now, stages: [...worklistStages], customerId, limit: 1, offset: 0 });
  if (!row)
    throw new AppError(
      'conflict',
      `Customer ${customerId} is not on the worklist (not at risk or lapsed, or decided in the last 30 days)`,
    );
  const item = present(deps, row, now);
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
  });
  return { id, customerId, decision: body.decision, action, giftValue, needsApproval, suggestion: item.suggestion };
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
