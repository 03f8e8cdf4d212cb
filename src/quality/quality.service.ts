// The data-quality page's rules: the score (the share of customers without any problem), the
// counts per problem in plain words, the customers behind a count, and one snapshot a day.
import type { Deps } from '../deps.ts';
import { dayIn } from '../shared/time.ts';
import {
  hasSnapshot,
  problemCounts,
  problemCustomers,
  saveSnapshot,
  snapshotHistory,
  type SnapshotRow,
} from './quality.repository.ts';
import { problemCodes, problemWords, type ProblemCode, type QualityCustomers, type QualityReport } from './quality.ts';

/** Days of score history the page shows. */
export const historyDays = 365;

/** 0-100 with two decimals: the share of customers without any problem; 100 when there are none. */
export const qualityScore = (customers: number, withProblems: number) =>
  customers === 0 ? 100 : Math.round(((customers - withProblems) / customers) * 10_000) / 100;

async function measure(deps: Deps): Promise<SnapshotRow & { withProblems: number }> {
  const { customers, withProblems, counts } = await problemCounts(deps.db);
  return {
    day: dayIn(deps.config.timeZone, deps.clock.now()),
    customers,
    withProblems,
    score: qualityScore(customers, withProblems),
    counts,
  };
}

/** The score, the counts per problem and the score over time; takes the day's snapshot when it has none yet. */
export async function qualityReport(deps: Deps): Promise<QualityReport> {
  const now = await measure(deps);
  if (!(await hasSnapshot(deps.db, now.day))) await saveSnapshot(deps.db, now, { replace: false });
  return {
    day: now.day,
    customers: now.customers,
    clean: now.customers - now.withProblems,
    score: now.score,
    problems: problemCodes.map((code) => ({ code, ...problemWords[code], customers: now.counts[code] })),
    history: await snapshotHistory(deps.db, historyDays),
  };
}

/** Takes the day's snapshot now, replacing one taken earlier that day (the nightly analysis calls it). */
export async function takeQualitySnapshot(deps: Deps): Promise<{ day: string; score: number }> {
  const now = await measure(deps);
  await saveSnapshot(deps.db, now, { replace: true });
  return { day: now.day, score: now.score };
}

/** One page of the customers with a problem, each with the problem in words and a suggestion where there is one. */
export async function qualityCustomers(
  deps: Deps,
  problem: ProblemCode,
  options: { page: number; pageSize: number },
): Promise<QualityCustomers> {
  const { customers, total } = await problemCustomers(deps.db, problem, options);
  return { problem, label: problemWords[problem].label, customers, total, ...options };
}
