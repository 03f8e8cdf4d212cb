// Saving, evaluating and summing up segments.
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { satisfiedFrom } from '../satisfaction/satisfaction.service.ts';
import { AppError } from '../shared/errors.ts';
import {
  attributeTypes,
  clearSnapshot,
  deleteSegmentRow,
  findSegmentRow,
  insertSegment,
  listSegmentRows,
  memberPage,
  scoringRun,
  segmentMembersSql,
  segmentRules,
  summarize,
  takeSnapshot,
  updateSegment,
  type RuleContext,
  type SegmentRow,
} from './segment.repository.ts';
import {
  checkRule,
  checkStoredRule,
  personalConditions,
  withoutPersonalValues,
  type Rule,
  type RuleIssue,
  type segmentBody,
  type ShownRule,
} from './segment.ts';

export { attributeTypes, knownValues } from './segment.repository.ts';

export interface Segment {
  id: number;
  name: string;
  description: string | null;
  kind: 'dynamic' | 'snapshot';
  rule: Rule;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  snapshotAt: string | null;
  members: number | null;
}

export async function ruleContext(deps: Deps): Promise<RuleContext> {
  return { now: deps.clock.now(), runId: await scoringRun(deps.db), attributeTypes: await attributeTypes(deps.db) };
}

/** The rule's context, or a validation error naming each condition that is wrong and why. */
export async function checked(deps: Deps, rule: Rule, prefix = 'rule.'): Promise<RuleContext> {
  const context = await ruleContext(deps);
  const issues = checkRule(rule, context.attributeTypes);
  if (issues.length > 0)
    throw new AppError('validation_failed', 'The segment rule is not valid', {
      issues: issues.map((i) => ({ ...i, path: `${prefix}${i.path}` })),
    });
  return context;
}

/**
 * The context to evaluate stored rules in, or a conflict naming each problem (paths from the given
 * prefixes): a rule saved before a check was added, or naming an attribute no longer defined, is for
 * its owner to change, never to reach SQL and fail there.
 */
export async function storedRuleContext(
  deps: Deps,
  what: string,
  rules: [prefix: string, rule: unknown][],
): Promise<RuleContext> {
  const context = await ruleContext(deps);
  const issues: RuleIssue[] = rules.flatMap(([prefix, rule]) =>
    (rule === null ? [] : checkStoredRule(rule, context.attributeTypes)).map((issue) => ({
      path: issue.path ? `${prefix}.${issue.path}` : prefix,
      message: issue.message,
    })),
  );
  if (issues.length > 0) {
    const named = issues
      .slice(0, 3)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ');
    throw new AppError(
      'conflict',
      `${what} has a rule that no longer passes the checks a rule is saved with; change it (${named}${issues.length > 3 ? '; ...' : ''})`,
      { issues },
    );
  }
  return context;
}

const toSegment = (r: SegmentRow): Segment => ({
  id: r.id,
  name: r.name,
  description: r.description,
  kind: r.kind as Segment['kind'],
  rule: r.rule,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  snapshotAt: r.snapshotAt?.toISOString() ?? null,
  members: r.members,
});

export async function findSegment(db: Db, id: number): Promise<Segment> {
  const row = await findSegmentRow(db, id);
  if (!row) throw new AppError('not_found', `No segment ${id}`);
  return toSegment(row);
}

export async function listSegments(db: Db): Promise<Segment[]> {
  return (await listSegmentRows(db)).map(toSegment);
}

export async function saveSegment(
  deps: Deps,
  principal: Principal,
  body: z.infer<typeof segmentBody>,
  id?: number,
): Promise<Segment> {
  const context = await checked(deps, body.rule);
  const now = deps.clock.now();
  const definition = {
    name: body.name,
    description: body.description ?? null,
    kind: body.kind,
    rule: body.rule,
    updatedAt: now,
  };
  return deps.db.transaction(async (tx) => {
    let segmentId = id;
    if (segmentId === undefined) {
      segmentId = await insertSegment(tx, { ...definition, createdBy: principalName(principal), createdAt: now });
    } else if (!(await updateSegment(tx, segmentId, definition))) {
      throw new AppError('not_found', `No segment ${segmentId}`);
    }
    if (body.kind === 'snapshot') await takeSnapshot(tx, segmentId, body.rule, context);
    else await clearSnapshot(tx, segmentId);
    return findSegment(tx, segmentId);
  });
}

/** Takes a snapshot segment's members again from its rule. */
export async function refreshSnapshot(deps: Deps, id: number): Promise<Segment> {
  const segment = await findSegment(deps.db, id);
  if (segment.kind !== 'snapshot')
    throw new AppError('conflict', `Segment ${id} is dynamic: its members are always current`);
  const context = await storedRuleContext(deps, `Segment ${id}`, [['rule', segment.rule]]);
  await deps.db.transaction((tx) => takeSnapshot(tx, id, segment.rule, context));
  return findSegment(deps.db, id);
}

export async function deleteSegment(deps: Deps, id: number): Promise<void> {
  await findSegment(deps.db, id);
  await deps.db.transaction((tx) => deleteSegmentRow(tx, id));
}

/** The context to evaluate a saved segment in; a dynamic one's stored rule is checked again first (a conflict if it no longer passes). */
async function segmentContext(deps: Deps, segment: Segment): Promise<RuleContext> {
  // A snapshot's members were taken: reading them compiles no rule.
  return segment.kind === 'snapshot'
    ? ruleContext(deps)
    : storedRuleContext(deps, `Segment ${segment.id}`, [['rule', segment.rule]]);
}

/** Who a saved segment selects now, as SQL returning customer ids; a conflict when its stored rule no longer passes the checks. */
export async function membersOf(deps: Deps, segment: Segment) {
  return segmentMembersSql(segment, await segmentContext(deps, segment));
}

/** The live count of an unsaved rule, what the latest analysis says of them and the first few. */
export async function previewRule(deps: Deps, rule: Rule) {
  const context = await checked(deps, rule);
  const members = segmentMembersSql({ id: 0, kind: 'dynamic', rule }, context);
  const [summary, sample] = await Promise.all([
    summarize(deps.db, members, context.runId, satisfiedFrom),
    memberPage(deps.db, members, { limit: 10, offset: 0 }),
  ]);
  return { ...summary, scored: context.runId !== null, sample };
}

export async function segmentSummary(deps: Deps, segment: Segment) {
  const context = await segmentContext(deps, segment);
  return {
    ...(await summarize(deps.db, segmentMembersSql(segment, context), context.runId, satisfiedFrom)),
    scored: context.runId !== null,
  };
}

export async function segmentMembers(deps: Deps, segment: Segment, page: { limit: number; offset: number }) {
  return memberPage(deps.db, await membersOf(deps, segment), page);
}

// --- what an analyst is shown (docs/security.md): counts, never whom a rule looks for

/** A saved segment as the principal may read it: for an analyst, its rule without the values of personal conditions, and no member count when it has any. */
export function segmentFor(principal: Principal, segment: Segment): Omit<Segment, 'rule'> & { rule: ShownRule } {
  if (principal.role !== 'analyst') return segment;
  return {
    ...segment,
    rule: withoutPersonalValues(segment.rule),
    members: personalConditions(segment.rule).length > 0 ? null : segment.members,
  };
}

/** A rule (a journey's) as the principal may read it: for an analyst, without the values of conditions on personal fields. */
export const ruleFor = (principal: Principal, rule: Rule): ShownRule =>
  principal.role === 'analyst' ? withoutPersonalValues(rule) : rule;

/**
 * Of these segments, those whose member counts the principal may not see: for an analyst, the ones
 * whose rule filters on a name, email, phone or external id (a count would say whether that person is a customer).
 */
export async function countsWithheld(
  deps: Deps,
  principal: Principal,
  segmentIds: (number | null)[],
): Promise<Set<number>> {
  const ids = [...new Set(segmentIds.filter((id): id is number => id !== null))];
  if (principal.role !== 'analyst' || ids.length === 0) return new Set();
  return new Set(
    (await segmentRules(deps.db, ids)).filter((s) => personalConditions(s.rule).length > 0).map((s) => s.id),
  );
}
