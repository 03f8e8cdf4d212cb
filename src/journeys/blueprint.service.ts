// The journey blueprint: each stage's designed path against the paths customers took, and the gaps
// (customers nobody contacted for long, orders never confirmed, stages no journey starts on).
import { audit } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import {
  activeTriggers,
  customersInStages,
  deleteDesign,
  savedDesigns,
  silentCustomers,
  stageCounts,
  stepCustomers,
  unconfirmedOrders,
  writeDesign,
} from './blueprint.repository.ts';
import {
  designs,
  gapRule,
  stageReport,
  stagesWithoutJourney,
  type BlueprintReport,
  type BlueprintStage,
  type BlueprintStep,
  type Design,
  type Gap,
  type Outcome,
} from './blueprint.ts';

const day = 86_400_000;
const stageWords: Record<BlueprintStage, string> = {
  trial: 'trial users',
  customer: 'customers',
  best: 'best customers',
  at_risk: 'customers at risk',
  lapsed: 'lapsed customers',
  won_back: 'customers won back',
};

/** Each stage's funnel over the last `days` and the gaps, as of now. */
export async function blueprintReport(
  deps: Deps,
  options: { days: number; silentDays: number; stage?: BlueprintStage },
): Promise<BlueprintReport> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - options.days * day);
  const all = designs(await savedDesigns(deps.db));
  const shown = options.stage ? all.filter((d) => d.stage === options.stage) : all;
  const [counts, silent, unconfirmed, triggers] = await Promise.all([
    stageCounts(deps.db, shown, since, now),
    silentCustomers(deps.db, options.silentDays, now),
    unconfirmedOrders(deps.db, since, now),
    activeTriggers(deps.db),
  ]);
  const bare = stagesWithoutJourney(triggers);
  const inStages = bare.length > 0 ? await customersInStages(deps.db, bare) : [];
  const gaps: Gap[] = [
    {
      kind: 'silent',
      stage: null,
      title: `No contact from us for ${options.silentDays} days`,
      count: silent.n,
      customers: silent.customers,
      sample: silent.sample ?? [],
      rule: gapRule('silent', options),
    },
    {
      kind: 'unconfirmed',
      stage: null,
      title: 'Orders whose confirmation never went out',
      count: unconfirmed.n,
      customers: unconfirmed.customers,
      sample: unconfirmed.sample ?? [],
      rule: null,
    },
    ...bare.map((stage): Gap => {
      const found = inStages.find((r) => r.stage === stage);
      return {
        kind: 'no_journey',
        stage,
        title: `No journey starts when customers become ${stageWords[stage]}`,
        count: found?.n ?? 0,
        customers: found?.n ?? 0,
        sample: found?.sample ?? [],
        rule: gapRule('no_journey', { stage, silentDays: options.silentDays }),
      };
    }),
  ];
  return {
    days: options.days,
    since: since.toISOString(),
    silentDays: options.silentDays,
    stages: shown.map((d) => stageReport(d, counts)),
    gaps,
  };
}

async function designOf(deps: Deps, stage: BlueprintStage): Promise<Design> {
  return designs(await savedDesigns(deps.db)).find((d) => d.stage === stage)!;
}

/** The customers of one designed step with one outcome (on time, late, missed, left first, not due). */
export async function customersOfStep(
  deps: Deps,
  query: { stage: BlueprintStage; step: string; outcome: Outcome; days: number; limit: number },
) {
  const design = await designOf(deps, query.stage);
  if (!design.steps.some((s) => s.key === query.step))
    throw new AppError(
      'not_found',
      `The ${query.stage} design has no step ${query.step}; it has ${design.steps.map((s) => s.key).join(', ') || 'none'}`,
    );
  const now = deps.clock.now();
  return stepCustomers(deps.db, design, query.step, query.outcome, {
    since: new Date(now.getTime() - query.days * day),
    now,
    limit: query.limit,
  });
}

/** Saves a stage's designed path; recorded in the audit log with what it was before. */
export async function saveDesign(
  deps: Deps,
  stage: BlueprintStage,
  steps: BlueprintStep[],
  by: { actor: string; ip: string | null },
): Promise<Design> {
  const before = await designOf(deps, stage);
  await deps.db.transaction(async (tx) => {
    await writeDesign(tx, stage, steps, by.actor, deps.clock.now());
    await audit(tx, {
      actor: by.actor,
      action: 'blueprint.changed',
      target: stage,
      detail: { from: before.source === 'saved' ? before.steps : 'built-in', to: steps },
      ip: by.ip,
    });
  });
  return designOf(deps, stage);
}

/** Back to the built-in design; recorded when there was a saved one. */
export async function resetDesign(
  deps: Deps,
  stage: BlueprintStage,
  by: { actor: string; ip: string | null },
): Promise<Design> {
  const before = await designOf(deps, stage);
  await deps.db.transaction(async (tx) => {
    if (await deleteDesign(tx, stage))
      await audit(tx, {
        actor: by.actor,
        action: 'blueprint.reset',
        target: stage,
        detail: { from: before.steps },
        ip: by.ip,
      });
  });
  return designOf(deps, stage);
}
