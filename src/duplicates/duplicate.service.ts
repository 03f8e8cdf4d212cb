import { audit } from '../audit/index.ts';
import { principalName } from '../auth/auth.ts';
import { mergeCustomers } from '../customers/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Principal } from '../shared/principal.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import {
  addFound,
  buildCandidates,
  candidateChunk,
  collectPeople,
  createFoundTable,
  pairPage,
  pairsAfter,
  pairStatus,
  saveFound,
  setPairStatus,
  type FoundPair,
  type PairRow,
} from './duplicate.repository.ts';
import type { Decision, FindResult, Pair, PairStatus } from './duplicate.ts';
import { defaultMinScore, scorePair } from './score.ts';

/** Candidate pairs scored per round trip: bounds memory whatever the store's size. */
const chunkSize = 5000;

/**
 * Finds candidate duplicates among all customers and rewrites the queue (duplicate_pairs) in one
 * transaction: blocking keys and candidate pairs in SQL, each pair scored by scorePair.
 */
export async function findDuplicates(
  deps: Deps,
  options: { minScore?: number; progress?: ProgressReporter } = {},
): Promise<FindResult> {
  const started = Date.now();
  const minScore = options.minScore ?? defaultMinScore;
  return deps.db.transaction(async (tx) => {
    options.progress?.(0, undefined, 'collecting customers');
    const customers = await collectPeople(tx);
    options.progress?.(0, undefined, 'building blocks');
    const candidates = await buildCandidates(tx);
    await createFoundTable(tx);
    let found = 0;
    let done = 0;
    let after = { firstId: 0, secondId: 0 };
    options.progress?.(0, candidates, 'scoring pairs');
    for (;;) {
      const chunk = await candidateChunk(tx, after, chunkSize);
      if (chunk.length === 0) break;
      const kept: FoundPair[] = [];
      for (const pair of chunk) {
        const { score, evidence } = scorePair(pair.first, pair.second, deps.config.defaultCountry);
        if (score >= minScore) kept.push({ firstId: pair.firstId, secondId: pair.secondId, score, evidence });
      }
      await addFound(tx, kept);
      found += kept.length;
      done += chunk.length;
      const last = chunk[chunk.length - 1];
      after = { firstId: last.firstId, secondId: last.secondId };
      options.progress?.(done, candidates, `${found} pairs found`);
    }
    const saved = await saveFound(tx);
    return { customers, candidates, found, ...saved, minScore, seconds: (Date.now() - started) / 1000 };
  });
}

const iso = (value: Date | string | null) =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

function toPair(row: PairRow): Pair {
  const summary = (s: PairRow['first']) => ({
    ...s,
    id: Number(s.id),
    orders: Number(s.orders),
    lastOrderAt: iso(s.lastOrderAt),
    flags: s.flags ?? [],
  });
  return {
    score: Number(row.score),
    evidence: row.evidence,
    status: row.status,
    foundAt: iso(row.found_at) ?? '',
    decidedAt: iso(row.decided_at),
    decidedBy: row.decided_by,
    first: summary(row.first),
    second: summary(row.second),
  };
}

/** The review queue (or the pairs of another status), highest score first. */
export async function listPairs(
  deps: Deps,
  query: { status: PairStatus | readonly PairStatus[]; page: number; pageSize: number; minScore?: number },
): Promise<{ pairs: Pair[]; total: number; page: number; pageSize: number }> {
  const statuses = typeof query.status === 'string' ? [query.status] : query.status;
  const { rows, total } = await pairPage(deps.db, statuses, {
    offset: (query.page - 1) * query.pageSize,
    limit: query.pageSize,
    minScore: query.minScore,
  });
  return { pairs: rows.map(toPair), total, page: query.page, pageSize: query.pageSize };
}

/** Every pair of these statuses at or above `minScore`, in queue order, a page at a time (memory stays bounded). */
export async function* allPairs(deps: Deps, statuses: readonly PairStatus[], minScore: number): AsyncGenerator<Pair> {
  let after: { score: string; firstId: number; secondId: number } | null = null;
  for (;;) {
    const rows = await pairsAfter(deps.db, statuses, minScore, after, 1000);
    for (const row of rows) yield toPair(row);
    if (rows.length < 1000) return;
    const last = rows[rows.length - 1];
    after = { score: last.score, firstId: Number(last.first_id), secondId: Number(last.second_id) };
  }
}

/**
 * A person's decision on a pair: merge (into `keep`, the first when not given), not the same
 * person (never proposed again), or later. Audited as duplicates.decided.
 */
export async function decidePair(
  deps: Deps,
  ids: { first: number; second: number },
  decision: Decision,
  by: { principal: Principal; ip: string | null },
): Promise<{ status: PairStatus; kept?: number; removed?: number }> {
  const firstId = Math.min(ids.first, ids.second);
  const secondId = Math.max(ids.first, ids.second);
  const status = await pairStatus(deps.db, firstId, secondId);
  if (status === null) throw new AppError('not_found', `No duplicate pair of customers ${firstId} and ${secondId}`);
  if (status === 'merged') throw new AppError('conflict', `Customers ${firstId} and ${secondId} were merged already`);
  const actor = principalName(by.principal);
  if (decision.decision === 'merge') {
    const keep = decision.keep ?? firstId;
    if (keep !== firstId && keep !== secondId)
      throw new AppError('validation_failed', `keep must be one of the pair, ${firstId} or ${secondId}`, {
        issues: [{ path: 'keep', message: `${firstId} or ${secondId}` }],
      });
    const other = keep === firstId ? secondId : firstId;
    await mergeCustomers(deps, keep, other, { actor, ip: by.ip });
    await audit(deps.db, {
      actor,
      ip: by.ip,
      action: 'duplicates.decided',
      target: `customer #${keep}`,
      detail: { decision: 'merge', first: firstId, second: secondId, kept: keep, removed: other },
    });
    return { status: 'merged', kept: keep, removed: other };
  }
  const next: PairStatus = decision.decision;
  await deps.db.transaction(async (tx) => {
    await setPairStatus(tx, firstId, secondId, next, actor);
    await audit(tx, {
      actor,
      ip: by.ip,
      action: 'duplicates.decided',
      target: `customer #${firstId}`,
      detail: { decision: next, first: firstId, second: secondId },
    });
  });
  return { status: next };
}
