// Why customers leave, and whom an action moves: one step of every analysis. It rebuilds the
// experiences catalogue (a current run), reads every customer's history with their experiences,
// and from it makes the outcome tables (outcomes.ts), the rules they propose (rules/), the
// time-to-lapse hazard model with each customer's drivers and the monthly causes of leaving
// (hazard.ts), and the uplift estimates from every random holdout Kept holds (uplift.ts), which
// rank the worklist by expected incremental value.
import { stopwatch } from '../shared/stopwatch.ts';
import type { Deps } from '../deps.ts';
import { refreshExperiences } from '../experiences/index.ts';
import { distilRules, refreshRules } from '../rules/index.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { customerDrivers, fitHazard, lapseCause, personPeriods, type HazardModel } from './hazard.ts';
import { toDay, type CustomerHistory } from './history.ts';
import { outcomeTables, type OutcomeReport } from './outcomes.ts';
import { AppError } from '../shared/errors.ts';
import { findSegment, membersOf } from '../segments/segment.service.ts';
import {
  countBuyers,
  latestRetentionReport,
  outcomeCasesOf,
  postMortemFacts,
  readCustomerHistories,
  readExitAnswers,
  readTrials,
  worklistCandidates,
  writeDrivers,
  writeOutcomeCases,
  writeRetentionReport,
  writeUplift,
} from './retention.repository.ts';
import { driftedAway, exitCause, experienceCause, monthOf, outcomeAfter, stateAt, stateColumns } from './retention.ts';
import { effectByType, fitUplift, policyValue, priorUplift, scoreUplift } from './uplift.ts';

/** Above this many buyers the tables and models learn from an even sample of them (every k-th id). */
export const retentionSample = 200_000;
const windowDays = 90;
const valueDays = 180;
const minCell = 30;

export interface RetentionSummary {
  customers: number;
  sampled: boolean;
  experiences: number;
  cells: number;
  rulesProposed: number;
  hazard: { rows: number; events: number } | null;
  uplift: { trials: number; source: string };
  seconds: Record<string, number>;
}

export async function analyseRetention(
  deps: Deps,
  o: { runId: number; asOf: string; current: boolean; warnings: string[]; onProgress?: ProgressReporter },
): Promise<RetentionSummary> {
  const { db, config } = deps;
  const care = config.care;
  const followUpDays = config.experiences.followUpDays;
  const { seconds, phase } = stopwatch();
  const now = deps.clock.now();
  if (o.current) await refreshExperiences(db, now, config);
  phase('experiences');
  // The end of the as-of day: what happened on it counts.
  const asOfEnd = new Date(Math.min(now.getTime(), Date.parse(`${o.asOf}T00:00:00Z`) + 86_400_000 - 1));
  const asOfDay = toDay(asOfEnd);
  const buyers = await countBuyers(db);
  const sampleEvery = Math.max(1, Math.ceil(buyers / retentionSample));
  const histories = await readCustomerHistories(db, {
    asOf: asOfEnd,
    zeroValueOrders: config.analytics.zeroValueOrders,
    sampleEvery,
    onRange: (read) => o.onProgress?.(read, Math.ceil(buyers / sampleEvery), 'reading experiences'),
  });
  const byId = new Map(histories.map((h) => [h.customerId, h]));
  phase('read');

  const outcomes = outcomeTables(histories, asOfDay, {
    days: care.outcomeDays,
    valueDays,
    followUpDays,
    minCell,
    controlDays: 30,
  });
  const proposals = distilRules(outcomes.cells, {
    runId: o.runId,
    asOf: o.asOf,
    days: care.outcomeDays,
    followUpDays,
    minCell,
    limit: 20,
  });
  if (o.current) await refreshRules(db, proposals, now);
  phase('outcomes');

  const drivers = await driversOfLeaving(deps, o, histories, asOfDay, asOfEnd);
  phase('hazard');
  const uplift = await estimateUplift(deps, o, byId, outcomes, asOfDay, asOfEnd);
  phase('uplift');

  const { cases, ...tables } = outcomes;
  await writeRetentionReport(
    db,
    o.runId,
    { outcomes: { ...tables, sampleEvery }, drivers: drivers.report, uplift: uplift.report },
    now,
  );
  if (o.current) await writeOutcomeCases(db, o.runId, cases);
  phase('write');
  return {
    customers: histories.length,
    sampled: sampleEvery > 1,
    experiences: histories.reduce((n, h) => n + h.experiences.length, 0),
    cells: outcomes.cells.length,
    rulesProposed: proposals.length,
    hazard: drivers.model && { rows: drivers.model.rows, events: drivers.model.events },
    uplift: { trials: uplift.trials, source: uplift.source },
    seconds,
  };
}

/**
 * The hazard model, each current customer's drivers (onto their scores, the strongest first among
 * the reasons), and every lapse of the last two years by month and likely cause: the exit answer
 * when there is one, else the strongest driver that applied when they stopped, else "drifted away".
 */
async function driversOfLeaving(
  deps: Deps,
  o: { runId: number; current: boolean; warnings: string[] },
  histories: CustomerHistory[],
  asOfDay: number,
  asOfEnd: Date,
): Promise<{ model: HazardModel | null; report: Record<string, unknown> }> {
  const lapseDays = deps.config.care.lapseDays;
  const options = {
    periodDays: 30,
    lapseDays,
    windowDays,
    followUpDays: deps.config.experiences.followUpDays,
    minKindCount: minCell,
  };
  const rows = personPeriods(histories, asOfDay, options);
  const events = rows.event.reduce((n, e) => n + e, 0);
  const model = events >= 20 && rows.event.length - events >= 20 ? fitHazard(rows) : null;
  if (!model)
    o.warnings.push(
      `Drivers of leaving: ${events} lapses in the observed periods, too few for the hazard model (it needs 20)`,
    );
  const exits = await readExitAnswers(deps.db, asOfEnd);
  const since = asOfDay - 730;
  const months = new Map<string, Map<string, number>>();
  const exitReasons = new Map<string, { customers: number; answers: Map<string, number> }>();
  for (const [, e] of exits) {
    const cause = exitCause(e.answer);
    const entry = exitReasons.get(cause) ?? { customers: 0, answers: new Map() };
    entry.customers++;
    entry.answers.set(e.answer, (entry.answers.get(e.answer) ?? 0) + 1);
    exitReasons.set(cause, entry);
  }
  const driverRows: { customerId: number; drivers: Record<string, unknown>[]; reason: string }[] = [];
  for (const h of histories) {
    // Each silence of lapseDays after an order is a lapse, dated when the silence reached lapseDays.
    for (let k = 0; k < h.orders.length; k++) {
      const last = h.orders[k].at;
      const next = k + 1 < h.orders.length ? h.orders[k + 1].at : Number.POSITIVE_INFINITY;
      const lapsedAt = last + lapseDays;
      if (next - last < lapseDays || lapsedAt > asOfDay || lapsedAt < since) continue;
      const exit = exits.get(h.customerId);
      const answered = exit && exit.at >= last && exit.at <= lapsedAt + 180 ? exit : undefined;
      const driver = model && !answered ? lapseCause(model, h, last) : null;
      const cause = answered ? exitCause(answered.answer) : driver ? experienceCause(driver.kind) : driftedAway;
      const month = monthOf(lapsedAt);
      const byCause = months.get(month) ?? new Map<string, number>();
      byCause.set(cause, (byCause.get(cause) ?? 0) + 1);
      months.set(month, byCause);
    }
    if (model && o.current) {
      const found = customerDrivers(model, h, asOfDay, options);
      if (found.length)
        driverRows.push({
          customerId: h.customerId,
          drivers: found.map((d) => ({ ...d })),
          reason: `risk of leaving raised by ${found
            .slice(0, 2)
            .map((d) => `${d.label} (${d.hazardRatio.toFixed(1)}× [${d.low.toFixed(1)}, ${d.high.toFixed(1)}])`)
            .join(' and ')}`,
        });
    }
  }
  if (driverRows.length) await writeDrivers(deps.db, o.runId, driverRows);
  const whyLeft = [...months.keys()].sort().map((month) => ({
    month,
    causes: Object.fromEntries([...months.get(month)!].sort((a, b) => b[1] - a[1])),
    lapsed: [...months.get(month)!.values()].reduce((a, b) => a + b, 0),
  }));
  return {
    model,
    report: {
      definition: { ...options, events, rows: rows.event.length },
      model,
      whyLeft,
      exitReasons: [...exitReasons]
        .map(([cause, e]) => ({
          cause,
          customers: e.customers,
          // Only answers several customers gave: a report is kept past an erasure, one person's words are not.
          answers: [...e.answers]
            .filter(([, customers]) => customers >= 3)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 5)
            .map(([answer, customers]) => ({ answer, customers })),
        }))
        .sort((a, b) => b.customers - a.customers),
      withDrivers: driverRows.length,
    },
  };
}

const valueBandOf = (spend: number, cuts: [number, number]) =>
  spend <= 0 ? 'none' : spend < cuts[0] ? 'low' : spend < cuts[1] ? 'mid' : 'high';
const riskBandOf = (overdue: number) =>
  Number.isNaN(overdue) ? 'one order' : overdue < 1 ? 'on time' : overdue < 2 ? 'late' : 'long overdue';

/**
 * Uplift from every randomised assignment whose outcome window has closed: the effect by customer
 * type, and a cross-fitted two-model uplift model when both arms are large enough. The worklist's
 * customers are scored by it (or, without one, by the prior: the pooled holdout effect, else the
 * assumed one, on those still reachable who would not buy anyway) and ranked by uplift x value at
 * stake - the cost of a call.
 */
async function estimateUplift(
  deps: Deps,
  o: { runId: number; current: boolean; warnings: string[] },
  byId: Map<number, CustomerHistory>,
  outcomes: OutcomeReport,
  asOfDay: number,
  asOfEnd: Date,
): Promise<{ trials: number; source: string; report: Record<string, unknown> }> {
  const care = deps.config.care;
  const days = care.outcomeDays;
  const trials = (
    await readTrials(deps.db, {
      until: new Date(asOfEnd.getTime() - days * 86_400_000),
      holdoutShare: care.worklistHoldout,
    })
  ).filter((t) => byId.has(Number(t.customer_id)));
  const rows = trials.map((t) => ({ h: byId.get(Number(t.customer_id)), t: Number(t.at) }));
  // Where the randomisation happened is a feature too: sources differ in base rate and in what they do.
  const sources = [...new Set(trials.map((t) => t.source.split(':')[0])), 'worklist'];
  const withSource = (columns: ReturnType<typeof stateColumns>, of: (i: number) => string) => {
    columns.categorical.source = {
      codes: Int32Array.from(columns.numeric.orders, (_, i) => sources.indexOf(of(i))),
      names: sources,
    };
    return columns;
  };
  const columns = withSource(stateColumns(rows), (i) => trials[i].source.split(':')[0]);
  const treated = Uint8Array.from(trials, (t) => Number(t.treated));
  const results = rows.map(({ h, t }) => outcomeAfter(h!, t, days));
  const outcome = Uint8Array.from(results, (r) => r.bought);
  const states = rows.map(({ h, t }) => stateAt(h!, t));
  const group = (name: string, values: string[]) => {
    const names = [...new Set(values)].sort();
    const index = new Map(names.map((v, i) => [v, i]));
    return { name, names, codes: Int32Array.from(values, (v) => index.get(v)!) };
  };
  const trialRecords = trials.map((t, i) => ({
    customerId: Number(t.customer_id),
    source: t.source,
    treated: t.treated,
    outcome: outcome[i] as 0 | 1,
    value: results[i].value,
  }));
  const byType = trials.length
    ? effectByType(trialRecords, [
        group(
          'stage',
          states.map((s) => s.stage),
        ),
        group(
          'value band',
          states.map((s) => valueBandOf(s.spend, outcomes.valueCuts.prior)),
        ),
        group(
          'risk band',
          states.map((s) => riskBandOf(s.recencyDays / s.averageGap)),
        ),
        group(
          'source',
          trials.map((t) => t.source.split(':')[0]),
        ),
      ])
    : null;
  const fitted = fitUplift(columns, treated, outcome, { folds: 5, seed: 7 });
  const model = fitted && 'models' in fitted ? fitted : null;
  const pooled = byType?.overall;
  const pooledUsable = pooled && pooled.treated.n >= 100 && pooled.control.n >= 100;
  const source = model ? 'model' : pooledUsable ? 'holdouts' : 'assumed';
  const effect = pooledUsable ? Math.max(0, pooled.difference) : care.assumedUplift;
  if (!model)
    o.warnings.push(
      `Uplift: ${fitted && 'reason' in fitted ? fitted.reason : 'no randomised assignments with a closed outcome window'}; the worklist ranks by ${
        pooledUsable
          ? `the holdouts' pooled effect (${(effect * 100).toFixed(1)} points)`
          : `an assumed effect of ${(effect * 100).toFixed(1)} points until a holdout measures one`
      } on customers still reachable who would not buy anyway`,
    );

  // What ranking by incremental value would have saved against treating everyone, on the held-out folds.
  const values = Float64Array.from(states, (s) => (s.orders ? (s.spend / Math.max(s.tenureDays, 365)) * 365 : 0));
  const policy = model
    ? policyValue({ uplift: model.heldOut, value: values, cost: care.actionCosts.call, treated, outcome })
    : null;

  let scored = 0;
  if (o.current) {
    const candidates = await worklistCandidates(deps.db, o.runId);
    const upliftOf = model
      ? scoreUplift(
          model.models,
          withSource(
            stateColumns(candidates.map((c) => ({ h: byId.get(Number(c.customer_id)), t: asOfDay }))),
            () => 'worklist',
          ),
        )
      : null;
    const cost = care.actionCosts.call;
    const written = candidates.map((c, i) => {
      const u = upliftOf ? Math.max(0, upliftOf[i]) : priorUplift(c.p_alive, c.p_buy_90 ?? 0, effect);
      return {
        customerId: Number(c.customer_id),
        uplift: u,
        source: upliftOf && byId.has(Number(c.customer_id)) ? 'model' : source === 'model' ? 'holdouts' : source,
        incrementalValue: u * c.value_at_stake - cost,
      };
    });
    await writeUplift(deps.db, o.runId, care.worklistHoldout, written);
    scored = written.length;
  }
  return {
    trials: trials.length,
    source,
    report: {
      days,
      source,
      effect,
      trials: trials.length,
      bySource: Object.entries(
        trials.reduce<Record<string, { treated: number; control: number }>>((acc, t) => {
          const entry = (acc[t.source.split(':')[0]] ??= { treated: 0, control: 0 });
          if (t.treated) entry.treated++;
          else entry.control++;
          return acc;
        }, {}),
      ).map(([name, n]) => ({ source: name, ...n })),
      byType,
      model: model && { qini: model.qini, topK: model.topK, folds: 5 },
      reason: fitted && 'reason' in fitted ? fitted.reason : null,
      policy,
      scored,
      costs: care.actionCosts,
      holdoutShare: care.worklistHoldout,
    },
  };
}

// --- reads for the API, the CLI and the pages

/** The latest current analysis's (or a given run's) retention report; null before the first. */
export async function retentionReport(deps: Deps, runId?: number) {
  const row = await latestRetentionReport(deps.db, runId);
  if (!row) return null;
  return { runId: Number(row.run_id), asOf: row.as_of, ...row };
}

/** The outcome tables, the cells narrowed by type, experience, occurrence, follow-up and size. */
export async function outcomesReport(
  deps: Deps,
  filter: {
    runId?: number;
    kind?: string;
    stage?: string;
    valueBand?: string;
    channel?: string;
    occurrence?: string;
    followedUp?: string;
    minN?: number;
    /** The tables for the members of a saved segment, computed now from the run's as-of date. */
    segmentId?: number;
  },
) {
  const report = await retentionReport(deps, filter.runId);
  if (!report) return null;
  const outcomes = filter.segmentId
    ? await segmentOutcomes(deps, filter.segmentId, report.asOf)
    : (report.outcomes as unknown as Omit<OutcomeReport, 'cases'> & {
        sampleEvery: number;
        segment?: { id: number; name: string };
      });
  const keep = (c: OutcomeReport['cells'][number]) =>
    (filter.kind === undefined || c.kind === filter.kind) &&
    (filter.stage === undefined || c.stage === filter.stage) &&
    (filter.valueBand === undefined || c.valueBand === filter.valueBand) &&
    (filter.channel === undefined || c.channel === filter.channel) &&
    (filter.occurrence === undefined || c.occurrence === filter.occurrence) &&
    (filter.followedUp === undefined || c.followedUp === filter.followedUp) &&
    c.n >= (filter.minN ?? 0);
  return { runId: report.runId, asOf: report.asOf, ...outcomes, cells: outcomes.cells.filter(keep) };
}

/**
 * The outcome tables of one saved segment's members (who they are now; what they went through and
 * did up to the analysis's as-of date), computed on request: the '*|*|*' rows are the segment.
 */
async function segmentOutcomes(deps: Deps, segmentId: number, asOf: string) {
  const segment = await findSegment(deps.db, segmentId);
  const asOfEnd = new Date(Date.parse(`${asOf}T00:00:00Z`) + 86_400_000 - 1);
  const histories = await readCustomerHistories(deps.db, {
    asOf: asOfEnd,
    zeroValueOrders: deps.config.analytics.zeroValueOrders,
    sampleEvery: 1,
    members: await membersOf(deps, segment),
  });
  const { cases: _, ...tables } = outcomeTables(histories, toDay(asOfEnd), {
    days: deps.config.care.outcomeDays,
    valueDays,
    followUpDays: deps.config.experiences.followUpDays,
    minCell,
    controlDays: 30,
  });
  return { ...tables, sampleEvery: 1, segment: { id: segment.id, name: segment.name } };
}

/** The customers behind one cell of the outcome tables (the latest current analysis's). */
export async function outcomeCustomers(
  deps: Deps,
  cell: string,
  page: { limit: number; offset: number; segmentId?: number },
) {
  const report = await retentionReport(deps);
  if (!report) return { runId: null, customers: [] };
  const members = page.segmentId ? await membersOf(deps, await findSegment(deps.db, page.segmentId)) : undefined;
  const rows = await outcomeCasesOf(deps.db, report.runId, cell, { ...page, members });
  return {
    runId: report.runId,
    customers: rows.map((r) => ({
      customerId: Number(r.customer_id),
      externalId: r.external_id,
      name: r.name,
      stage: r.stage,
      cell: r.cell,
      at: new Date(r.at).toISOString(),
      boughtAgain: r.bought_again,
      valueBand: r.value_band,
      value: r.value,
    })),
  };
}

/**
 * One lapsed (or any) customer's post-mortem: their last experiences, what stayed unresolved, every
 * contact and what was tried, their exit answer, the drivers that applied when they stopped, and the
 * likely cause of their leaving.
 */
export async function postMortem(deps: Deps, customerId: number) {
  const facts = await postMortemFacts(deps.db, customerId);
  if (!facts) throw new AppError('not_found', `No customer ${customerId}`);
  const report = await retentionReport(deps);
  const model = (report?.drivers as { model?: HazardModel | null } | undefined)?.model ?? null;
  const lapseDays = deps.config.care.lapseDays;
  const [history] = await readCustomerHistories(deps.db, {
    asOf: deps.clock.now(),
    zeroValueOrders: deps.config.analytics.zeroValueOrders,
    sampleEvery: 1,
    customerId,
  });
  const nowDay = toDay(deps.clock.now());
  const last = history?.orders.at(-1)?.at ?? null;
  const silentDays = last === null ? null : Math.floor(nowDay - last);
  // What applied when they stopped: the experiences from two months before the last order to a month after it.
  const drivers =
    model && history && last !== null
      ? customerDrivers(model, history, Math.min(nowDay, last + 30), {
          periodDays: 30,
          lapseDays,
          windowDays,
          followUpDays: deps.config.experiences.followUpDays,
          minKindCount: minCell,
        })
      : [];
  const cause = facts.exit_answer
    ? { cause: exitCause(facts.exit_answer.answer), from: 'exit answer' as const }
    : drivers.length
      ? { cause: experienceCause(drivers[0].name.replace(/^experience:/, '')), from: 'drivers' as const }
      : { cause: driftedAway, from: 'nothing on record' as const };
  return {
    customerId,
    name: facts.name,
    stage: facts.stage,
    lastOrderAt: facts.last_order_at && new Date(facts.last_order_at).toISOString(),
    silentDays,
    lapsed: silentDays !== null && silentDays >= lapseDays,
    lapseDays,
    cause,
    exitAnswer: facts.exit_answer && {
      answer: facts.exit_answer.answer,
      at: new Date(facts.exit_answer.at).toISOString(),
    },
    experiences: facts.experiences ?? [],
    unresolved: facts.unresolved ?? [],
    contacts: facts.contacts ?? [],
    drivers,
    modelRunId: report?.runId ?? null,
  };
}
