// Journeys run on their own: every half minute new triggers start passes, and each pass whose next
// step is due moves on (waits, conditions, mails, agent tasks) until it waits, ends or leaves.
// A mail step is recorded as 'sending' before SMTP, so a crash never sends it twice (as P09).
import { every } from '../jobs/job.service.ts';
import { randomUUID } from 'node:crypto';
import { principalName, type Principal } from '../auth/auth.ts';
import { publicBase } from '../config.ts';
import type { Deps } from '../deps.ts';
import { upsertTouchpoints } from '../channels/index.ts';
import {
  armOutcomes,
  contamination,
  firstPurchaseDays,
  insertCampaign,
  insertTemplate,
  personalisation,
  programmeHold,
  recipients,
  selectTemplate,
  stillActiveAfter,
  templateIdByName,
  updateCampaign,
} from '../campaigns/index.ts';
import { controlArm } from '../campaigns/campaign.ts';
import { compareArms } from '../campaigns/report.service.ts';
import { suppressionReason, templateContext, track, mailLinks } from '../campaigns/send.service.ts';
import { compileTemplate, renderMail } from '../campaigns/template.ts';
import { isPermanent } from '../mail/mailer.ts';
import { compileRule } from '../segments/index.ts';
import { checked, ruleContext, storedRuleContext } from '../segments/segment.service.ts';
import { checkStoredRule, type Rule } from '../segments/segment.ts';
import { AppError } from '../shared/errors.ts';
import { findSurvey, inviteToSurvey } from '../surveys/index.ts';
import { insertTask } from '../worklist/index.ts';
import {
  activeJourneys,
  beginStep,
  claimDue,
  enrol,
  expectedNextOrder,
  finishStep,
  forgetStep,
  insertJourney,
  journeyCounts,
  journeyMeasured,
  markStep,
  matches,
  moveEnrolment,
  orderedSince,
  orderForMail,
  problemWaits,
  selectJourney,
  selectJourneys,
  settleInterrupted,
  triggerEvents,
  updateJourney,
  updateJourneyStatus,
  type EnrolmentRow,
  type JourneyFields,
  type JourneyRow,
} from './journey.repository.ts';
import {
  recipes,
  recipeTemplates,
  treatedArm,
  type Journey,
  type JourneyBody,
  type JourneyStatus,
  type Step,
  type Trigger,
} from './journey.ts';

/** Triggers older than this when first seen start nothing: no "thank you for your order" a week late. */
const lookbackHours = 48;
/** A mail the server did not take for now is tried again after this long. */
const retryMinutes = 10;

const toJourney = (r: JourneyRow): Journey => ({
  id: r.id,
  name: r.name,
  description: r.description,
  trigger: r.trigger,
  entry: r.entry ?? null,
  steps: r.steps,
  exitOnOrder: r.exitOnOrder,
  exit: r.exit ?? null,
  holdoutShare: r.holdoutShare,
  consentList: r.consentList,
  status: r.status as JourneyStatus,
  activatedAt: r.activatedAt && r.activatedAt.toISOString(),
  campaignId: r.campaignId,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export async function findJourney(deps: Deps, id: number): Promise<Journey> {
  const row = await selectJourney(deps.db, id);
  if (!row) throw new AppError('not_found', `No journey ${id}`);
  return toJourney(row);
}

export { recentEnrolments, stepCounts } from './journey.repository.ts';

export async function listJourneys(deps: Deps) {
  const [rows, counts] = await Promise.all([selectJourneys(deps.db), journeyCounts(deps.db)]);
  return rows.map(toJourney).map((j) => {
    const mine = counts.filter((c) => c.journey_id === j.id);
    const sum = (f: (c: (typeof mine)[number]) => boolean) => mine.filter(f).reduce((s, c) => s + c.n, 0);
    return {
      ...j,
      counts: {
        active: sum((c) => c.status === 'active'),
        completed: sum((c) => c.status === 'completed'),
        exited: sum((c) => c.status === 'exited'),
        skipped: sum((c) => c.status === 'skipped'),
        holdout: sum((c) => c.arm === controlArm && c.status !== 'skipped'),
      },
    };
  });
}

/** Every rule, template and survey a journey names must exist and be right; each problem with its path. */
async function validate(deps: Deps, body: JourneyBody): Promise<void> {
  const issues: { path: string; message: string }[] = [];
  const rule = async (value: Rule | null, path: string) => {
    if (!value) return;
    try {
      await checked(deps, value, `${path}.`);
    } catch (error) {
      const found =
        error instanceof AppError ? (error.details as { issues?: typeof issues } | undefined)?.issues : undefined;
      if (!found) throw error;
      issues.push(...found);
    }
  };
  await rule(body.entry, 'entry');
  await rule(body.exit, 'exit');
  for (const [i, step] of body.steps.entries()) {
    if (step.type === 'condition') await rule(step.rule, `steps.${i}.rule`);
    if (step.type !== 'email') continue;
    if (!(await selectTemplate(deps.db, step.templateId))) {
      issues.push({ path: `steps.${i}.templateId`, message: `no template ${step.templateId}` });
    }
    if (step.survey && !(await findSurvey(deps.db, { key: step.survey })))
      issues.push({ path: `steps.${i}.survey`, message: `no survey ${step.survey}` });
    if ((step.problemLink || step.survey === 'problem') && body.trigger.type === 'stage')
      issues.push({
        path: `steps.${i}.problemLink`,
        message: 'a problem link needs an order: use it in a journey started by an order, a delivery or an experience',
      });
  }
  if (issues.length > 0) throw new AppError('validation_failed', 'The journey is not valid', { issues });
}

/** Saves a journey (a new one is a draft); its campaign row carries its name, holdout and consent list. */
export async function saveJourney(deps: Deps, principal: Principal, body: JourneyBody, id?: number): Promise<Journey> {
  await validate(deps, body);
  const now = deps.clock.now();
  const fields: JourneyFields = {
    name: body.name,
    description: body.description,
    trigger: body.trigger,
    entry: body.entry,
    steps: body.steps,
    exitOnOrder: body.exitOnOrder,
    exit: body.exit,
    holdoutShare: body.holdoutShare,
    consentList: body.consentList,
  };
  const journeyId = await deps.db.transaction(async (tx) => {
    if (id === undefined) {
      const createdBy = principalName(principal);
      const campaignId = await insertCampaign(tx, {
        name: body.name,
        kind: 'journey',
        channel: 'email',
        arms: [{ name: treatedArm, templateId: null, share: 1 }],
        holdoutShare: body.holdoutShare,
        consentList: body.consentList,
        timeZone: deps.config.timeZone,
        status: 'journey',
        createdBy,
        createdAt: now,
      });
      return insertJourney(tx, { ...fields, status: 'draft', campaignId, createdBy, createdAt: now, updatedAt: now });
    }
    const campaignId = await updateJourney(tx, id, { ...fields, updatedAt: now });
    if (campaignId === undefined) throw new AppError('not_found', `No journey ${id}`);
    const { name, holdoutShare, consentList } = fields;
    await updateCampaign(tx, campaignId, { name, holdoutShare, consentList });
    return id;
  });
  return findJourney(deps, journeyId);
}

/**
 * Starts one of the recipes (order follow-up, has it arrived?, service recovery, second-purchase nudge,
 * win-back, exit survey) as a draft, with its starting templates (an existing template of the same
 * name is used as it is).
 */
export async function journeyFromRecipe(deps: Deps, principal: Principal, key: string): Promise<Journey> {
  const recipe = recipes.find((r) => r.key === key);
  if (!recipe) throw new AppError('not_found', `No recipe ${key}; there are ${recipes.map((r) => r.key).join(', ')}`);
  const steps: Step[] = [];
  for (const step of recipe.journey.steps) {
    if (!('template' in step)) {
      steps.push(step);
      continue;
    }
    const { template: name, ...rest } = step;
    const now = deps.clock.now();
    const templateId =
      (await templateIdByName(deps.db, name)) ??
      (await insertTemplate(deps.db, {
        name,
        subject: recipeTemplates[name].subject,
        body: recipeTemplates[name].body,
        createdBy: principalName(principal),
        createdAt: now,
        updatedAt: now,
      }));
    steps.push({
      type: 'email',
      templateId,
      transactional: rest.transactional ?? false,
      problemLink: rest.problemLink ?? false,
      ...(rest.survey ? { survey: rest.survey } : {}),
    });
  }
  return saveJourney(deps, principal, { ...recipe.journey, steps });
}

/** A journey's stored rules with the path each is at. */
const storedRules = (journey: Journey): [string, Rule | null][] => [
  ['entry', journey.entry],
  ['exit', journey.exit],
  ...journey.steps.map((s, i): [string, Rule | null] => [`steps.${i}.rule`, s.type === 'condition' ? s.rule : null]),
];

/**
 * Activates (triggers from now on start passes) or pauses (passes wait where they are) a journey;
 * one whose stored rules no longer pass the checks is not activated (a conflict naming them).
 */
export async function setJourneyStatus(deps: Deps, id: number, to: 'active' | 'paused'): Promise<Journey> {
  const journey = await findJourney(deps, id);
  if (journey.status === to) return journey;
  if (to === 'active') await storedRuleContext(deps, `Journey ${id}`, storedRules(journey));
  await updateJourneyStatus(deps.db, id, to, deps.clock.now());
  return findJourney(deps, id);
}

export interface RunOptions {
  worker?: string;
  /** Test hook: called after SMTP accepted a mail and before it is confirmed; throwing there is a crash. */
  afterAccept?: (customerId: number) => void;
}

/** One round: new triggers start passes; due steps run. Several workers may run rounds at once. */
export async function runJourneys(deps: Deps, options: RunOptions = {}) {
  const worker = options.worker ?? `journeys-${process.pid}-${randomUUID().slice(0, 8)}`;
  const now = deps.clock.now();
  const active = (await activeJourneys(deps.db)).map(toJourney);
  const tally = { entered: 0, skipped: 0, steps: 0, sent: 0 };
  const context = await ruleContext(deps);
  // A journey saved before a rule check was added would fail every round in SQL: it is passed over
  // (its passes wait, as if paused) until its rules are changed.
  const broken = new Map<number, boolean>();
  const passedOver = (journey: Journey) => {
    if (!broken.has(journey.id)) {
      const issues = storedRules(journey).flatMap(([path, rule]) =>
        rule ? checkStoredRule(rule, context.attributeTypes).map((i) => `${path}.${i.path}: ${i.message}`) : [],
      );
      if (issues.length > 0)
        deps.logger.warn(
          { journey: journey.id, issues },
          'journey passed over: a rule no longer passes the checks; change it',
        );
      broken.set(journey.id, issues.length > 0);
    }
    return broken.get(journey.id)!;
  };
  for (const journey of active) {
    if (passedOver(journey)) continue;
    const from = new Date(Math.max(Date.parse(journey.activatedAt!), now.getTime() - lookbackHours * 3_600_000));
    const entry = journey.entry ? compileRule(journey.entry, context, false) : null;
    const counts = await enrol(
      deps.db,
      journey,
      triggerEvents(journey.trigger, from, now),
      entry,
      now,
      confirmationSteps(journey),
    );
    tally.entered += counts.active ?? 0;
    tally.skipped += (counts.skipped ?? 0) + (counts['confirmation only'] ?? 0);
  }
  const byId = new Map(active.map((j) => [j.id, j]));
  const compiled = new Map<number, ReturnType<typeof compileTemplate>>();
  for (;;) {
    const due = await deps.db.transaction((tx) =>
      claimDue(tx, { worker, now: deps.clock.now(), leaseSeconds: deps.config.mail.leaseSeconds, limit: 50 }),
    );
    if (due.length === 0) break;
    for (const pass of due) {
      const journey = byId.get(pass.journey_id) ?? (await findJourney(deps, pass.journey_id));
      if (passedOver(journey)) continue;
      const outcome = await advance(deps, journey, pass, { context, compiled, afterAccept: options.afterAccept });
      tally.steps += outcome.steps;
      tally.sent += outcome.sent;
    }
  }
  return tally;
}

type AdvanceContext = {
  context: Awaited<ReturnType<typeof ruleContext>>;
  compiled: Map<number, ReturnType<typeof compileTemplate>>;
  afterAccept?: (customerId: number) => void;
};

/**
 * How many of the journey's first steps are transactional mail (the confirmation of what just
 * happened): a trigger while the customer is still in the journey gets these, and nothing more.
 */
export const confirmationSteps = (journey: Pick<Journey, 'steps'>) => {
  const first = journey.steps.findIndex((s) => s.type !== 'email' || !s.transactional);
  return first === -1 ? journey.steps.length : first;
};

/** Runs a pass's steps from where it is until it waits, ends or leaves. */
async function advance(
  deps: Deps,
  journey: Journey,
  pass: EnrolmentRow,
  run: AdvanceContext,
): Promise<{ steps: number; sent: number }> {
  const key = { customerId: pass.customer_id, id: pass.id };
  const tally = { steps: 0, sent: 0 };
  const only = pass.detail.only === undefined ? null : Number(pass.detail.only);
  for (let step = pass.step; ; step++) {
    const now = deps.clock.now();
    if (only !== null && step >= only) {
      await moveEnrolment(deps.db, key, {
        status: 'skipped',
        reason: 'already in the journey: confirmed only',
        at: now,
      });
      return tally;
    }
    if (step >= journey.steps.length) {
      await moveEnrolment(deps.db, key, { status: 'completed', reason: null, at: now });
      return tally;
    }
    const exit = only === null ? await exitReason(deps, journey, pass, run.context) : null;
    if (exit) {
      await moveEnrolment(deps.db, key, { status: 'exited', reason: exit, at: now });
      return tally;
    }
    const s = journey.steps[step];
    const record = {
      customerId: pass.customer_id,
      enrolmentId: pass.id,
      step,
      journeyId: journey.id,
      kind: s.type,
      marketing: false,
      at: now,
    };
    tally.steps++;
    if (s.type === 'wait') {
      const until = await waitUntil(deps, s, pass.customer_id, now, run.context.runId);
      if (until > now) {
        await moveEnrolment(deps.db, key, { step: step + 1, nextAt: until });
        return tally;
      }
    } else if (s.type === 'condition') {
      const met = await matches(deps.db, pass.customer_id, compileRule(s.rule, { ...run.context, now }, false));
      await beginStep(deps.db, { ...record, outcome: met ? 'passed' : 'not met' });
      if (!met) {
        await moveEnrolment(deps.db, key, {
          status: 'exited',
          reason: `the condition of step ${step + 1} did not match`,
          at: now,
        });
        return tally;
      }
    } else if (s.type === 'task') {
      if (pass.arm === controlArm) await beginStep(deps.db, { ...record, outcome: 'held out' });
      else {
        await deps.db.transaction(async (tx) => {
          if (!(await beginStep(tx, { ...record, outcome: 'task made' }))) return;
          await insertTask(tx, {
            customerId: pass.customer_id,
            action: s.action,
            title: s.title,
            reason: `${journey.name}: ${String(pass.detail.what ?? 'started')}`,
            source: 'journey',
            journeyId: journey.id,
            orderId: pass.order_id,
            at: now,
            dueAt: new Date(now.getTime() + s.dueDays * 86_400_000),
          });
        });
      }
    } else {
      const sent = await mailStep(deps, journey, pass, step, s, run);
      if (sent === 'retry' || sent === 'wait') {
        const later = sent === 'retry' ? retryMinutes * 60_000 : 86_400_000;
        await moveEnrolment(deps.db, key, {
          step,
          nextAt: new Date(now.getTime() + later),
          waitedForProblem: sent === 'wait',
        });
        return tally;
      }
      if (sent === 'sent') tally.sent++;
    }
    await markStep(deps.db, key, step + 1);
  }
}

/** Why the pass leaves before its next step, or null: an order since it entered (when the journey says so), or the exit rule. */
async function exitReason(
  deps: Deps,
  journey: Journey,
  pass: EnrolmentRow,
  context: AdvanceContext['context'],
): Promise<string | null> {
  if (journey.exitOnOrder) {
    const order = await orderedSince(deps.db, pass.customer_id, pass.entered_at);
    if (order) return `ordered again (order ${order})`;
  }
  if (
    journey.exit &&
    (await matches(deps.db, pass.customer_id, compileRule(journey.exit, { ...context, now: deps.clock.now() }, false)))
  )
    return 'matched the exit rule';
  return null;
}

async function waitUntil(
  deps: Deps,
  s: Extract<Step, { type: 'wait' }>,
  customerId: number,
  now: Date,
  runId: number | null,
): Promise<Date> {
  if (s.until !== 'next_order') return new Date(now.getTime() + s.days * 86_400_000);
  const expected = await expectedNextOrder(deps.db, customerId, runId);
  return expected
    ? new Date(Date.parse(`${expected}T00:00:00Z`) + s.days * 86_400_000)
    : new Date(now.getTime() + s.fallbackDays * 86_400_000);
}

/** One mail of one pass: held out, suppressed, or sent at most once; 'retry' when the server did not take it for now. */
async function mailStep(
  deps: Deps,
  journey: Journey,
  pass: EnrolmentRow,
  step: number,
  s: Extract<Step, { type: 'email' }>,
  run: AdvanceContext,
): Promise<'sent' | 'retry' | 'wait' | 'not sent'> {
  const now = deps.clock.now();
  const mail = deps.config.mail;
  const record = {
    customerId: pass.customer_id,
    enrolmentId: pass.id,
    step,
    journeyId: journey.id,
    kind: 'email',
    marketing: !s.transactional,
    at: now,
  };
  // The message about what just happened (the order confirmation, the apology: transactional, before any
  // wait) is not a treatment, so the holdout gets it too; what follows later is the journey being measured.
  const immediate = s.transactional && journey.steps.slice(0, step).every((x) => x.type !== 'wait');
  if (pass.arm === controlArm && !immediate) {
    await beginStep(deps.db, { ...record, outcome: 'held out' });
    return 'not sent';
  }
  if (!s.transactional) {
    const hold = await programmeHold(deps.db, pass.customer_id, {
      campaignId: journey.campaignId,
      now,
      ...deps.config.programme,
    });
    // Marketing waits while a problem is open (it stops counting as open after KEPT_PROBLEM_DAYS).
    if (hold?.kind === 'open_problem') return 'wait';
    if (hold) {
      await beginStep(deps.db, { ...record, outcome: 'held out', reason: hold.reason });
      return 'not sent';
    }
  }
  const [recipient] = await recipients(
    deps.db,
    journey.campaignId,
    [pass.customer_id],
    journey.consentList,
    new Date(now.getTime() - mail.frequencyDays * 86_400_000),
  );
  const reason = recipient
    ? suppressionReason(recipient, {
        consentMode: mail.consent,
        cap: mail.frequencyCap,
        capDays: mail.frequencyDays,
        transactional: s.transactional,
        // A survey invitation is stopped by do-not-contact even in a transactional mail.
        use: s.survey ? 'survey' : s.transactional ? 'transactional' : 'marketing',
      })
    : 'customer no longer exists';
  if (reason) {
    await beginStep(deps.db, { ...record, outcome: 'suppressed', reason });
    return 'not sent';
  }
  if (!(await beginStep(deps.db, { ...record, outcome: 'sending' }))) {
    await settleInterrupted(deps.db, { customerId: pass.customer_id, enrolmentId: pass.id, step });
    return 'not sent';
  }
  const finish = (outcome: string, why: string | null, extra: { email?: string; messageId?: string } = {}) =>
    finishStep(deps.db, {
      customerId: pass.customer_id,
      enrolmentId: pass.id,
      step,
      outcome,
      reason: why,
      at: deps.clock.now(),
      ...extra,
    });
  let template = run.compiled.get(s.templateId);
  if (!template) {
    const row = await selectTemplate(deps.db, s.templateId);
    if (!row) {
      await finish('failed', `template ${s.templateId} no longer exists`);
      return 'not sent';
    }
    template = compileTemplate(row);
    run.compiled.set(s.templateId, template);
  }
  const [person] = await personalisation(deps.db, [pass.customer_id], run.context.runId);
  const invite = async (survey: string) =>
    (
      await inviteToSurvey(deps, survey, [{ customerId: pass.customer_id, orderId: pass.order_id, channel: 'email' }])
    )[0].url;
  const links = {
    ...(s.survey ? { survey: await invite(s.survey) } : {}),
    ...(s.problemLink ? { problem: await invite('problem') } : {}),
  };
  const order = pass.order_id === null ? undefined : await orderForMail(deps.db, pass.customer_id, pass.order_id);
  const way = await mailLinks(deps, journey.campaignId, pass.customer_id);
  let rendered;
  try {
    rendered = await renderMail(
      template,
      templateContext(person, journey, treatedArm, way, {
        order,
        links,
        trigger: { what: pass.detail.what === undefined ? null : String(pass.detail.what) },
      }),
    );
  } catch (error) {
    await finish('failed', `template: ${(error as Error).message}`.slice(0, 500));
    return 'not sent';
  }
  const messageId = `<kept.j${journey.id}.${pass.id}.${step}.${randomUUID()}@${new URL(publicBase(deps.config)).hostname}>`;
  try {
    await deps.mailer.send({
      to: recipient!.email!,
      subject: rendered.subject,
      text: rendered.text,
      html: await track(deps, rendered.html, journey.campaignId, pass.customer_id),
      messageId,
      headers: {
        'List-Unsubscribe': `<${way.unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'X-Kept-Journey': String(journey.id),
      },
    });
  } catch (error) {
    if (!isPermanent(error)) {
      await forgetStep(deps.db, { customerId: pass.customer_id, enrolmentId: pass.id, step });
      return 'retry';
    }
    await finish('failed', (error as Error).message.slice(0, 500), { email: recipient!.email! });
    return 'not sent';
  }
  run.afterAccept?.(pass.customer_id);
  await deps.db.transaction(async (tx) => {
    await finishStep(tx, {
      customerId: pass.customer_id,
      enrolmentId: pass.id,
      step,
      outcome: 'sent',
      reason: null,
      email: recipient!.email!,
      messageId,
      at: deps.clock.now(),
    });
    await upsertTouchpoints(tx, [
      {
        customerId: pass.customer_id,
        externalId: `journey:${pass.id}:${step}:sent`,
        at: deps.clock.now(),
        channel: 'email',
        direction: 'out',
        kind: 'email_sent',
        campaign: journey.name,
        detail: {
          journeyId: journey.id,
          campaignId: journey.campaignId,
          step: step + 1,
          subject: rendered.subject,
          ...(s.transactional ? { transactional: true } : {}),
        },
      },
    ]);
  });
  return 'sent';
}

/** A journey against its holdout, pass by pass from when each entered (intention to treat). */
export async function journeyReport(deps: Deps, id: number, days: number) {
  const journey = await findJourney(deps, id);
  const measured = journeyMeasured(journey);
  const now = deps.clock.now();
  const observedDays = journey.activatedAt
    ? Math.max(0, Math.min(days, Math.floor((now.getTime() - Date.parse(journey.activatedAt)) / 86_400_000)))
    : 0;
  const [outcomes, active, firsts, clean, waited] = await Promise.all([
    armOutcomes(deps.db, measured, days, journey.consentList),
    Promise.all([30, 90].map((d) => stillActiveAfter(deps.db, measured, d))),
    firstPurchaseDays(deps.db, measured, days, now),
    contamination(deps.db, measured, days),
    problemWaits(deps.db, journey.id),
  ]);
  return {
    journey,
    days,
    observedDays,
    ...compareArms(outcomes, active, firsts, observedDays),
    contamination: clean,
    waitedForProblems: waited,
  };
}

/** Runs a round of every active journey every 30 seconds while the server runs. */
export const scheduleJourneys = (deps: Deps) => every(deps, 30_000, 'journey round', () => runJourneys(deps));
