// Fitting the satisfaction index to what customers did next, and reading it over time.
import type { Db } from '../db/connection.ts';
import { horizonDays, satisfactionFeatures, type FeatureRow } from './satisfaction.repository.ts';
import {
  auc,
  directions,
  fitSatisfaction,
  inputs,
  satisfactionIndex,
  type Input,
  type SatisfactionFit,
  type SatisfactionModel,
} from './satisfaction.ts';

export type { SatisfactionFit } from './satisfaction.ts';

/** Customers with an index at or above this count as satisfied: their experiences were net good. */
export const satisfiedFrom = 50;
const minimumExperienced = 30;

const shiftDays = (isoDay: string, days: number) =>
  new Date(Date.parse(`${isoDay}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const endOfDay = (isoDay: string) => `${isoDay}T23:59:59.999Z`;

/** Monthly snapshots over the last year whose next period is over by as-of. */
const snapshots = 12;
const folds = 5;

/**
 * Fits the weights on monthly snapshots of the last year (experiences in the window before each
 * month end, and whether the customer bought in the period after it), and judges the index
 * against each single input by 5-fold cross-validation with the customers split into folds.
 * Null when too few customers had an experience.
 */
export async function fitSatisfactionModel(
  db: Db,
  asOf: string,
): Promise<{ fit: SatisfactionFit | null; warning?: string }> {
  const last = shiftDays(asOf, -horizonDays);
  const rows: FeatureRow[] = [];
  for (let k = 0; k < snapshots; k++)
    rows.push(...(await satisfactionFeatures(db, endOfDay(shiftDays(last, -30 * k)), 'experienced')));
  const customers = new Set(rows.map((r) => r.customer_id)).size;
  // Orders alone (no surveys, tickets, returns, incidents or notes): nothing to fit, nothing to warn about.
  if (customers === 0) return { fit: null };
  if (customers < minimumExperienced) {
    return {
      fit: null,
      warning: `Satisfaction index: fewer than ${minimumExperienced} customers with survey answers, tickets, returns, incidents or agent notes; not fitted`,
    };
  }
  const labels = rows.map((r) => r.bought);
  // Each fold is scored by weights fitted on the others; each single input in its documented direction.
  const sums = Object.fromEntries(['index', ...inputs].map((k) => [k, 0])) as Record<'index' | Input, number>;
  for (let fold = 0; fold < folds; fold++) {
    const model = fitSatisfaction(
      rows.filter((r) => r.customer_id % folds !== fold).map((r) => ({ x: r, bought: r.bought })),
    );
    const held = rows.filter((r) => r.customer_id % folds === fold);
    const heldLabels = held.map((r) => r.bought);
    sums.index +=
      auc(
        held.map((r) => satisfactionIndex(model, r)),
        heldLabels,
      ) / folds;
    for (const input of inputs)
      sums[input] +=
        auc(
          held.map((r) => directions[input] * r[input]),
          heldLabels,
        ) / folds;
  }
  const aucs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Number(v.toFixed(4))])) as Record<
    'index' | Input,
    number
  >;
  const model = fitSatisfaction(rows.map((r) => ({ x: r, bought: r.bought })));
  return {
    fit: {
      ...model,
      fittedAt: last,
      validation: {
        from: shiftDays(last, -30 * (snapshots - 1)),
        to: last,
        snapshots: rows.length,
        customers,
        buyers: labels.filter(Boolean).length,
        auc: aucs,
      },
    },
  };
}

/** The index as of a day for every customer who had an experience in the window before it. */
export async function satisfactionAt(db: Db, model: SatisfactionModel, day: string): Promise<Map<number, number>> {
  const rows = await satisfactionFeatures(db, endOfDay(day), 'experienced');
  return new Map(rows.map((r) => [r.customer_id, satisfactionIndex(model, r)]));
}

/** The last day of each of the last `months` months, the current one ending at as-of. */
const monthEnds = (asOf: string, months: number) => {
  const [y, m] = asOf.split('-').map(Number);
  return Array.from({ length: months }, (_, i) => {
    const back = months - 1 - i;
    return back === 0 ? asOf : new Date(Date.UTC(y, m - back, 0)).toISOString().slice(0, 10);
  });
};

type Tally = Record<string, { customers: number; satisfied: number; meanIndex: number }>;

/**
 * Customers kept satisfied: per month end, those with an experience in the window and how many of
 * them are at or above the mark, overall, by acquisition channel, by lifecycle stage now and by the
 * agent on their latest ticket (the team).
 */
export async function satisfiedByMonth(db: Db, model: SatisfactionModel, asOf: string, months = 12) {
  const result: {
    month: string;
    customers: number;
    satisfied: number;
    byChannel: Tally;
    byStage: Tally;
    byAgent: Tally;
  }[] = [];
  for (const day of monthEnds(asOf, months)) {
    const rows = await satisfactionFeatures(db, endOfDay(day), 'experienced');
    const tallies = { byChannel: {} as Tally, byStage: {} as Tally, byAgent: {} as Tally };
    let satisfied = 0;
    const count = (tally: Tally, key: string | null, index: number) => {
      const entry = (tally[key ?? 'unknown'] ??= { customers: 0, satisfied: 0, meanIndex: 0 });
      entry.meanIndex += (index - entry.meanIndex) / ++entry.customers;
      if (index >= satisfiedFrom) entry.satisfied++;
    };
    for (const r of rows) {
      const index = satisfactionIndex(model, r);
      if (index >= satisfiedFrom) satisfied++;
      count(tallies.byChannel, r.channel, index);
      count(tallies.byStage, r.stage, index);
      if (r.agent) count(tallies.byAgent, r.agent, index);
    }
    for (const tally of Object.values(tallies))
      for (const entry of Object.values(tally)) entry.meanIndex = Number(entry.meanIndex.toFixed(1));
    result.push({ month: day.slice(0, 7), customers: rows.length, satisfied, ...tallies });
  }
  return result;
}

/** One customer's index at each of the last months' ends (null where they had no experience or no recent order). */
export async function customerSatisfaction(
  db: Db,
  model: SatisfactionModel,
  customerId: number,
  asOf: string,
  months = 12,
) {
  const points: { month: string; index: number | null }[] = [];
  for (const day of monthEnds(asOf, months)) {
    const [row] = await satisfactionFeatures(db, endOfDay(day), { customerId });
    points.push({
      month: day.slice(0, 7),
      index: row?.experienced ? Number(satisfactionIndex(model, row).toFixed(1)) : null,
    });
  }
  return points;
}
