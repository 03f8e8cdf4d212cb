// Saving, evaluating and summing up segments.
import { listLimit } from '../shared/http.ts';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import { queryRows, sql, type Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { satisfiedFrom } from '../satisfaction/satisfaction.service.ts';
import { AppError } from '../shared/errors.ts';
import { attributeTypes, memberPage, scoringRun, segmentMembersSql, summarize, takeSnapshot, type RuleContext } from './segment.repository.ts';
import { checkRule, type Rule, type segmentBody } from './segment.ts';

export interface Segment { id: number; name: string; description: string | null; kind: 'dynamic' | 'snapshot'; rule: Rule; createdBy: string; createdAt: string; updatedAt: string; snapshotAt: string | null; members: number | null }

export async function ruleContext(deps: Deps): Promise<RuleContext> {
  return { now: deps.clock.now(), runId: await scoringRun(deps.db), attributeTypes: await attributeTypes(deps.db) };
}

/** The rule's context, or a validation error naming each condition that is wrong and why. */
export async function checked(deps: Deps, rule: Rule, prefix = 'rule.'): Promise<RuleContext> {
  const context = await ruleContext(deps);
  const issues = checkRule(rule, context.attributeTypes);
  if (issues.length > 0) throw new AppError('validation_failed', 'The segment rule is not valid', { issues: issues.map((i) => ({ ...i, path: `${prefix}${i.path}` })) });
  return context;
}

const toSegment = (r: Record<string, unknown>): Segment => ({
  id: Number(r.id), name: r.name as string, description: r.description as string | null, kind: r.kind as Segment['kind'], rule: r.rule as Rule,
  createdBy: r.created_by as string, createdAt: new Date(r.created_at as string).toISOString(), updatedAt: new Date(r.updated_at as string).toISOString(),
  snapshotAt: r.snapshot_at ? new Date(r.snapshot_at as string).toISOString() : null, members: r.members === null ? null : Number(r.members),
});

export async function findSegment(db: Db, id: number): Promise<Segment> {
  const [row] = await queryRows<Record<string, unknown>>(db, sql`select * from segments where id = ${id}`);
  if (!row) throw new AppError('not_found', `No segment ${id}`);
  return toSegment(row);
}

export async function listSegments(db: Db): Promise<Segment[]> {
  return (await queryRows<Record<string, unknown>>(db, sql`select * from segments order by lower(name), id limit ${listLimit}`)).map(toSegment);
}

export async function saveSegment(deps: Deps, principal: Principal, body: z.infer<typeof segmentBody>, id?: number): Promise<Segment> {
  const context = await checked(deps, body.rule);
  const now = deps.clock.now().toISOString();
  return deps.db.transaction(async (tx) => {
    let segmentId = id;
    if (segmentId === undefined) {
      [{ id: segmentId }] = await queryRows<{ id: number }>(tx, sql`
        insert into segments (name, description, kind, rule, created_by, created_at, updated_at)
        values (${body.name}, ${body.description ?? null}, ${body.kind}, ${JSON.stringify(body.rule)}::jsonb, ${principalName(principal)}, ${now}, ${now}) returning id`);
    } else {
      const updated = await queryRows<{ id: number }>(tx, sql`
        update segments set name = ${body.name}, description = ${body.description ?? null}, kind = ${body.kind}, rule = ${JSON.stringify(body.rule)}::jsonb, updated_at = ${now}
        where id = ${segmentId} returning id`);
      if (updated.length === 0) throw new AppError('not_found', `No segment ${segmentId}`);
    }
    if (body.kind === 'snapshot') await takeSnapshot(tx, segmentId, body.rule, context);
    else {
      await tx.execute(sql`delete from segment_members where segment_id = ${segmentId}`);
      await tx.execute(sql`update segments set snapshot_at = null, members = null where id = ${segmentId}`);
    }
    return findSegment(tx, segmentId);
  });
}

/** Takes a snapshot segment's members again from its rule. */
export async function refreshSnapshot(deps: Deps, id: number): Promise<Segment> {
  const segment = await findSegment(deps.db, id);
  if (segment.kind !== 'snapshot') throw new AppError('conflict', `Segment ${id} is dynamic: its members are always current`);
  const context = await checked(deps, segment.rule);
  await deps.db.transaction((tx) => takeSnapshot(tx, id, segment.rule, context));
  return findSegment(deps.db, id);
}

export async function deleteSegment(deps: Deps, id: number): Promise<void> {
  await findSegment(deps.db, id);
  await deps.db.transaction(async (tx) => {
    await tx.execute(sql`delete from segment_members where segment_id = ${id}`);
    await tx.execute(sql`delete from segments where id = ${id}`);
  });
}

/** Who a saved segment selects now, as SQL returning customer ids. */
export async function membersOf(deps: Deps, segment: Segment) {
  return segmentMembersSql(segment, await checked(deps, segment.rule));
}

/** The live count of an unsaved rule, what the latest analysis says of them and the first few. */
export async function previewRule(deps: Deps, rule: Rule) {
  const context = await checked(deps, rule);
  const members = segmentMembersSql({ id: 0, kind: 'dynamic', rule }, context);
  const [summary, sample] = await Promise.all([summarize(deps.db, members, context.runId, satisfiedFrom), memberPage(deps.db, members, { limit: 10, offset: 0 })]);
  return { ...summary, scored: context.runId !== null, sample };
}

export async function segmentSummary(deps: Deps, segment: Segment) {
  const context = await checked(deps, segment.rule);
  return { ...await summarize(deps.db, segmentMembersSql(segment, context), context.runId, satisfiedFrom), scored: context.runId !== null };
}

export async function segmentMembers(deps: Deps, segment: Segment, page: { limit: number; offset: number }) {
  return memberPage(deps.db, await membersOf(deps, segment), page);
}
