// Campaigns from draft to done: templates, the holdout drawn at start, sending as a background job,
// pause and resume, lists for the channels Kept does not send itself, campaigns run elsewhere.
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { normaliseRef } from '../customers/identity.ts';
import { recordConsent, resolveCustomers } from '../customers/index.ts';
import { every, startJob } from '../jobs/job.service.ts';
import { scoringRun } from '../segments/index.ts';
import { findSegment, membersOf } from '../segments/segment.service.ts';
import { AppError } from '../shared/errors.ts';
import { wallTimeToInstant } from '../shared/time.ts';
import {
  assignMembers,
  cancelQueued,
  complaintRate,
  dueCampaigns,
  insertCampaign,
  insertExternalCampaign,
  insertTemplate,
  markListed,
  messageAnswered,
  personalisation,
  selectCampaign,
  selectCampaigns,
  selectTemplate,
  selectTemplates,
  startPreviewCounts,
  suppressAddress,
  suppressFlaggedListed,
  suppressListed,
  updateCampaign,
  updateTemplate,
  type CampaignRow,
} from './campaign.repository.ts';
import { upsertTouchpoints } from '../channels/index.ts';
import type { Arm } from './campaign.schema.ts';
import type { HoldRules } from './programme.repository.ts';
import {
  complaintRefuseRate,
  controlArm,
  type Campaign,
  type campaignBody,
  type CampaignChannel,
  type CampaignKind,
  type CampaignStatus,
  type externalCampaignBody,
  type StartPreview,
} from './campaign.ts';
import { templateContext, mailLinks } from './send.service.ts';
import { compileTemplate, renderMail, TemplateError, type templateBody } from './template.ts';

const iso = (at: Date | null) => at && at.toISOString();
const toCampaign = (r: CampaignRow): Campaign => ({
  id: r.id,
  name: r.name,
  kind: r.kind as CampaignKind,
  channel: r.channel as CampaignChannel,
  segmentId: r.segmentId,
  arms: r.arms,
  holdoutShare: r.holdoutShare,
  consentList: r.consentList,
  scheduledAt: iso(r.scheduledAt),
  timeZone: r.timeZone,
  status: r.status as CampaignStatus,
  statusReason: r.statusReason,
  external: r.external !== null,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  startedAt: iso(r.startedAt),
  finishedAt: iso(r.finishedAt),
  members: r.members,
  exclusions: r.exclusions,
  overrideHoldouts: r.overrideHoldouts,
  repeatEvery: r.repeatEvery as Campaign['repeatEvery'],
  seriesId: r.seriesId,
});

export async function findCampaign(deps: Deps, id: number): Promise<Campaign> {
  const row = await selectCampaign(deps.db, id);
  if (!row) throw new AppError('not_found', `No campaign ${id}`);
  return toCampaign(row);
}

export async function listCampaigns(deps: Deps): Promise<(Campaign & { counts: Record<string, number> })[]> {
  const rows = await selectCampaigns(deps.db);
  return rows.map((r) => ({ ...toCampaign(r), counts: r.counts ?? {} }));
}

export { capturedMail, customerPace, listedMembers, memberCounts } from './campaign.repository.ts';

// --- templates

export async function saveTemplate(deps: Deps, principal: Principal, body: z.infer<typeof templateBody>, id?: number) {
  try {
    compileTemplate(body);
  } catch (error) {
    throw new AppError('validation_failed', 'The template does not parse', {
      issues: [{ path: 'body', message: (error as Error).message }],
    });
  }
  const now = deps.clock.now();
  const text = { name: body.name, subject: body.subject, body: body.body };
  if (id === undefined) {
    const created = { createdBy: principalName(principal), createdAt: now, updatedAt: now };
    return findTemplate(deps, await insertTemplate(deps.db, { ...text, ...created }));
  }
  const changed = await updateTemplate(deps.db, id, { ...text, updatedAt: now });
  if (!changed) throw new AppError('not_found', `No template ${id}`);
  return findTemplate(deps, id);
}

export async function findTemplate(deps: Deps, id: number) {
  const row = await selectTemplate(deps.db, id);
  if (!row) throw new AppError('not_found', `No template ${id}`);
  return { id: row.id, name: row.name, subject: row.subject, body: row.body, updatedAt: row.updatedAt.toISOString() };
}

export async function listTemplates(deps: Deps) {
  return selectTemplates(deps.db);
}

/** The mail as one customer would get it: subject, HTML and the generated plain text. */
export async function previewTemplate(
  deps: Deps,
  template: { subject: string; body: string },
  customerId: number,
  arm = 'A',
) {
  const [person] = await personalisation(deps.db, [customerId], await scoringRun(deps.db));
  if (!person) throw new AppError('not_found', `No customer ${customerId}`);
  try {
    return await renderMail(
      compileTemplate(template),
      templateContext(person, { name: 'Preview' }, arm, await mailLinks(deps, 0, customerId)),
    );
  } catch (error) {
    if (error instanceof TemplateError)
      throw new AppError('validation_failed', 'The template does not render', {
        issues: [{ path: 'body', message: error.message }],
      });
    throw error;
  }
}

// --- campaigns

export async function createCampaign(
  deps: Deps,
  principal: Principal,
  body: z.infer<typeof campaignBody>,
): Promise<Campaign> {
  await findSegment(deps.db, body.segmentId);
  const issues: { path: string; message: string }[] = [];
  for (const [i, arm] of body.arms.entries()) {
    if (body.channel !== 'email') continue;
    if (arm.templateId === null)
      issues.push({ path: `arms.${i}.templateId`, message: 'an email arm needs a template' });
    else if (!(await selectTemplate(deps.db, arm.templateId))) {
      issues.push({ path: `arms.${i}.templateId`, message: `no template ${arm.templateId}` });
    }
  }
  const timeZone = body.timeZone ?? deps.config.timeZone;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    issues.push({ path: 'timeZone', message: `not an IANA time zone: ${JSON.stringify(timeZone)}` });
  }
  if (issues.length > 0) throw new AppError('validation_failed', 'The campaign is not valid', { issues });
  const scheduledAt = body.scheduledAt ? wallTimeToInstant(body.scheduledAt, timeZone) : null;
  if (scheduledAt && scheduledAt < deps.clock.now())
    throw new AppError('validation_failed', 'The campaign is not valid', {
      issues: [{ path: 'scheduledAt', message: `${body.scheduledAt} in ${timeZone} is in the past` }],
    });
  const id = await insertCampaign(deps.db, {
    name: body.name,
    kind: body.kind,
    channel: body.channel,
    segmentId: body.segmentId,
    arms: body.arms,
    holdoutShare: body.holdoutShare,
    consentList: body.consentList,
    scheduledAt,
    timeZone,
    status: scheduledAt ? 'scheduled' : 'draft',
    repeatEvery: body.repeatEvery ?? null,
    createdBy: principalName(principal),
    createdAt: deps.clock.now(),
  });
  return findCampaign(deps, id);
}

/** The programme's rules for a campaign starting now (config.programme), with or without other programmes' holdouts. */
export const holdRules = (deps: Deps, campaignId: number, overrideHoldouts: boolean): HoldRules => ({
  campaignId,
  now: deps.clock.now(),
  ...deps.config.programme,
  overrideHoldouts,
});

/**
 * Starts a campaign: refuses when complaints are at Gmail's 0.3 %, takes the segment's members now,
 * leaves out the universal control group, customers held out of another programme (unless
 * `overrideHoldouts`) and those with an open problem, draws the holdout and the arms, then sends
 * (email) or lists (other channels) the treated. A recurring campaign schedules its next occurrence.
 */
export async function startCampaign(
  deps: Deps,
  id: number,
  options: { overrideHoldouts?: boolean } = {},
): Promise<Campaign> {
  const campaign = await findCampaign(deps, id);
  if (!['draft', 'scheduled'].includes(campaign.status))
    throw new AppError('conflict', `Campaign ${id} is ${campaign.status}; only a draft or scheduled campaign starts`);
  const now = deps.clock.now();
  if (campaign.channel === 'email') {
    const health = await complaintRate(deps.db, now);
    if (health.rate >= complaintRefuseRate) {
      throw new AppError(
        'conflict',
        `Not starting: ${health.complaints} complaints in ${health.sent} messages over 30 days is ${(100 * health.rate).toFixed(2)} %, at or above ${100 * complaintRefuseRate} %`,
      );
    }
  }
  const members = await membersOf(deps, await findSegment(deps.db, campaign.segmentId!));
  const overrideHoldouts = options.overrideHoldouts ?? false;
  const count = await deps.db.transaction(async (tx) => {
    const claimed = await updateCampaign(tx, id, { status: 'sending', startedAt: now }, ['draft', 'scheduled']);
    if (!claimed) throw new AppError('conflict', `Campaign ${id} was started by someone else`);
    const { n, exclusions } = await assignMembers(
      tx,
      { id, arms: campaign.arms, holdoutShare: campaign.holdoutShare },
      members,
      now,
      campaign.channel === 'email' ? 'queued' : 'listed',
      holdRules(deps, id, overrideHoldouts),
    );
    if (campaign.channel !== 'email') await suppressListed(tx, id, campaign.consentList, deps.config.mail, now);
    // An empty segment, or a list channel, is done at once; email waits for its sender.
    const sending = campaign.channel === 'email' && n > 0;
    await updateCampaign(tx, id, {
      members: n,
      exclusions,
      overrideHoldouts,
      status: sending ? 'sending' : 'done',
      finishedAt: sending ? null : now,
    });
    if (campaign.repeatEvery) await scheduleNext(tx, campaign, now);
    return n;
  });
  if (campaign.channel === 'email' && count > 0) await startJob(deps, 'campaign.send', { campaignId: id });
  return findCampaign(deps, id);
}

/** The wall-clock time in `timeZone` of an instant, as YYYY-MM-DDTHH:mm. */
function wallTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/**
 * The occurrence after this one: the same wall-clock time a week or a calendar month later (the
 * 31st becomes the month's last day), scheduled, with a holdout of its own drawn when it starts.
 */
export function nextOccurrence(from: Date, every: 'week' | 'month', timeZone: string): Date {
  const [date, time] = wallTime(from, timeZone).split('T');
  const [y, m, d] = date.split('-').map(Number);
  const next =
    every === 'week'
      ? new Date(Date.UTC(y, m - 1, d + 7))
      : new Date(Date.UTC(y, m, Math.min(d, new Date(Date.UTC(y, m + 1, 0)).getUTCDate())));
  return wallTimeToInstant(`${next.toISOString().slice(0, 10)}T${time}`, timeZone);
}

async function scheduleNext(db: Deps['db'], campaign: Campaign, now: Date): Promise<void> {
  const seriesId = campaign.seriesId ?? campaign.id;
  if (campaign.seriesId === null) await updateCampaign(db, campaign.id, { seriesId });
  let at = nextOccurrence(new Date(campaign.scheduledAt ?? now), campaign.repeatEvery!, campaign.timeZone);
  // A late start (the server was down) does not schedule an occurrence in the past.
  while (at <= now) at = nextOccurrence(at, campaign.repeatEvery!, campaign.timeZone);
  await insertCampaign(db, {
    name: campaign.name,
    kind: campaign.kind,
    channel: campaign.channel,
    segmentId: campaign.segmentId,
    arms: campaign.arms,
    holdoutShare: campaign.holdoutShare,
    consentList: campaign.consentList,
    scheduledAt: at,
    timeZone: campaign.timeZone,
    status: 'scheduled',
    repeatEvery: campaign.repeatEvery,
    seriesId,
    createdBy: campaign.createdBy,
    createdAt: now,
  });
}

/**
 * What starting the campaign now would do, without doing it: the audience, who the programme
 * leaves out and why, the holdout and each arm's size with a mail rendered for one of its likely
 * members, who could not be reached and why, the overlap with running programmes, and warnings.
 */
export async function previewStart(
  deps: Deps,
  id: number,
  options: { overrideHoldouts?: boolean } = {},
): Promise<StartPreview> {
  const campaign = await findCampaign(deps, id);
  if (!['draft', 'scheduled'].includes(campaign.status))
    throw new AppError('conflict', `Campaign ${id} is ${campaign.status}; only a draft or scheduled campaign starts`);
  const overrideHoldouts = options.overrideHoldouts ?? false;
  const counts = await startPreviewCounts(
    deps.db,
    await membersOf(deps, await findSegment(deps.db, campaign.segmentId!)),
    holdRules(deps, id, overrideHoldouts),
    {
      channel: campaign.channel,
      consentList: campaign.consentList,
      mail: deps.config.mail,
      samples: campaign.arms.length,
    },
  );
  const leftOut = Object.entries(counts.exclusions)
    .map(([reason, n]) => ({ reason, n, overridden: overrideHoldouts && reason.startsWith('held out of ') }))
    .sort((a, b) => b.n - a.n);
  const drawn = counts.eligible;
  const holdout = Math.round(drawn * campaign.holdoutShare);
  const treated = drawn - holdout;
  const total = campaign.arms.reduce((s, a) => s + a.share, 0);
  let cumulative = 0;
  let before = 0;
  const arms = [];
  for (const [i, arm] of campaign.arms.entries()) {
    cumulative += arm.share;
    const upTo = i === campaign.arms.length - 1 ? treated : Math.round((treated * cumulative) / total);
    const customerId = counts.samples[i % Math.max(1, counts.samples.length)];
    let sample: StartPreview['arms'][number]['sample'] = null;
    if (customerId !== undefined) {
      const template = arm.templateId === null ? undefined : await selectTemplate(deps.db, arm.templateId);
      sample = {
        customerId,
        mail: template ? await previewTemplate(deps, template, customerId, arm.name).catch(() => null) : null,
      };
    }
    arms.push({ name: arm.name, templateId: arm.templateId, members: upTo - before, sample });
    before = upTo;
  }
  const unreachable = Object.entries(counts.suppressed)
    .map(([reason, n]) => ({ reason, n }))
    .sort((a, b) => b.n - a.n);
  const unreached = unreachable.reduce((s, u) => s + u.n, 0);
  const reach = drawn > 0 ? Math.round(treated * (1 - unreached / drawn)) : 0;
  const warnings: string[] = [];
  const number = (n: number) => n.toLocaleString('en');
  const heldOut = leftOut.filter((l) => l.reason.startsWith('held out of ')).reduce((s, l) => s + l.n, 0);
  if (heldOut > 0)
    warnings.push(
      overrideHoldouts
        ? `${number(heldOut)} customers held out of other programmes will be included: their holdouts are contaminated, and both reports will count it.`
        : `${number(heldOut)} customers are left out because another programme is measuring them; include them only if that programme's result matters less than this one.`,
    );
  const overlapping = counts.overlap.reduce((s, o) => s + o.n, 0);
  if (overlapping > 0)
    warnings.push(
      `${number(overlapping)} of the customers drawn are in a running programme too (${counts.overlap.map((o) => o.programme).join(', ')}); the frequency cap applies across all of them.`,
    );
  if (drawn > 0 && (holdout < 30 || treated < 30))
    warnings.push(
      `The holdout (${number(holdout)}) or the treated (${number(treated)}) has fewer than 30 customers: the report will not be able to say whether the campaign worked.`,
    );
  if (drawn === 0) warnings.push('Nobody would be drawn: the segment is empty or everyone in it is left out.');
  return {
    campaign,
    audience: counts.audience,
    leftOut,
    drawn,
    holdout,
    arms,
    unreachable,
    reach,
    overlap: counts.overlap,
    warnings,
  };
}

export async function setCampaignStatus(
  deps: Deps,
  principal: Principal,
  id: number,
  to: 'paused' | 'sending' | 'cancelled',
): Promise<Campaign> {
  const campaign = await findCampaign(deps, id);
  const allowed: Record<typeof to, CampaignStatus[]> = {
    paused: ['sending'],
    sending: ['paused'],
    cancelled: ['draft', 'scheduled', 'sending', 'paused'],
  };
  if (!allowed[to].includes(campaign.status))
    throw new AppError(
      'conflict',
      `Campaign ${id} is ${campaign.status}; it cannot be ${to === 'sending' ? 'resumed' : to}`,
    );
  if (to === 'sending') {
    const health = await complaintRate(deps.db, deps.clock.now());
    if (health.rate >= complaintRefuseRate)
      throw new AppError('conflict', `Not resuming: complaints are ${(100 * health.rate).toFixed(2)} % over 30 days`);
  }
  await updateCampaign(deps.db, id, {
    status: to,
    statusReason: to === 'sending' ? null : `${to} by ${principalName(principal)}`,
    finishedAt: to === 'cancelled' ? deps.clock.now() : null,
  });
  if (to === 'cancelled') await cancelQueued(deps.db, id);
  if (to === 'sending') await startJob(deps, 'campaign.send', { campaignId: id });
  return findCampaign(deps, id);
}

const listWords: Record<string, string> = { phone: 'call list', store: 'store list', direct_mail: 'mailing file' };

/**
 * A list campaign's members were reached: the list was exported or marked done. Members flagged
 * since the list was made are left out first (suppressed with the flag as reason: flags.ts). Each
 * treated member gets a touchpoint (the list and the campaign) on their timeline once, and counts
 * against the frequency cap from then on. Returns how many were newly reached and how many left out, by reason.
 */
export async function recordListReached(
  deps: Deps,
  id: number,
  how: 'exported' | 'marked done',
): Promise<{ reached: number; leftOut: Record<string, number> }> {
  const campaign = await findCampaign(deps, id);
  if (campaign.channel === 'email') throw new AppError('conflict', `Campaign ${id} is sent by email; it has no list`);
  return deps.db.transaction(async (tx) => {
    const leftOut = await suppressFlaggedListed(tx, id);
    const reached = await markListed(tx, id, deps.clock.now());
    for (let from = 0; from < reached.length; from += 5_000)
      await upsertTouchpoints(
        tx,
        reached.slice(from, from + 5_000).map((m) => ({
          customerId: m.customer_id,
          externalId: `campaign:${id}:listed`,
          at: m.sent_at,
          channel: campaign.channel,
          direction: 'out',
          kind: `${campaign.channel}_listed`,
          campaign: campaign.name,
          detail: { campaignId: id, arm: m.arm, list: listWords[campaign.channel], how },
        })),
      );
    return { reached: reached.length, leftOut };
  });
}

/** A campaign run elsewhere (another mail tool, a mailing house): who was in which arm and when, measured like ours. */
export async function recordExternalCampaign(
  deps: Deps,
  principal: Principal,
  body: z.infer<typeof externalCampaignBody>,
) {
  const { ids } = await resolveCustomers(
    deps.db,
    body.members.map((m) => normaliseRef(m.customer, deps.config.defaultCountry)),
    { source: 'campaign', createMissing: false },
  );
  const unknown = body.members.map((m, i) => ({ m, i })).filter(({ i }) => ids[i] === null || ids[i] === undefined);
  if (unknown.length > 0) {
    throw new AppError(
      'validation_failed',
      `${unknown.length} member${unknown.length === 1 ? '' : 's'} are not known customers; nothing was recorded`,
      {
        issues: unknown.slice(0, 50).map(({ m, i }) => ({
          path: `members.${i}.customer`,
          message: `no customer ${m.customer.externalId ?? m.customer.email}`,
        })),
      },
    );
  }
  const arms = [...new Set(body.members.map((m) => m.arm))]
    .filter((a) => a.toLowerCase() !== controlArm)
    .map((name) => ({ name, templateId: null, share: 1 }));
  const holdoutShare = body.members.filter((m) => m.arm.toLowerCase() === controlArm).length / body.members.length;
  const id = await deps.db.transaction((tx) =>
    insertExternalCampaign(tx, {
      name: body.name,
      kind: body.kind,
      channel: body.channel,
      arms,
      holdoutShare,
      consentList: body.consentList,
      timeZone: deps.config.timeZone,
      createdBy: principalName(principal),
      at: deps.clock.now(),
      members: body.members.map((m, i) => ({ customerId: ids[i] as number, arm: m.arm, sentAt: m.sentAt })),
    }),
  );
  return { id };
}

/**
 * Bounces and complaints from the mail server or provider: a hard bounce or a complaint stops all
 * mail to the address; a complaint also withdraws consent; each is on the customer's timeline.
 */
export async function recordMailFeedback(
  deps: Deps,
  events: { kind: 'hard_bounce' | 'soft_bounce' | 'complaint'; email: string; messageId?: string; at?: string }[],
) {
  let matched = 0;
  for (const e of events) {
    const at = e.at ? new Date(e.at) : deps.clock.now();
    const member = await messageAnswered(deps.db, e);
    await deps.db.transaction(async (tx) => {
      if (e.kind !== 'soft_bounce')
        await suppressAddress(tx, { email: e.email, reason: e.kind, at, campaignId: member?.campaign_id ?? null });
      if (!member) return;
      matched++;
      await upsertTouchpoints(tx, [
        {
          customerId: member.customer_id,
          externalId: `campaign:${member.campaign_id}:${e.kind}`,
          at,
          channel: 'email',
          direction: 'in',
          kind: e.kind === 'complaint' ? 'email_complaint' : `email_${e.kind}`,
          campaign: member.name,
          detail: { campaignId: member.campaign_id, email: e.email },
        },
      ]);
      if (e.kind === 'complaint')
        await recordConsent(tx, [
          {
            customerId: member.customer_id,
            list: member.consent_list,
            granted: false,
            at,
            source: 'complaint',
            wording: 'Marked a campaign mail as spam',
          },
        ]);
    });
  }
  return { recorded: events.length, matched };
}

/** Starts scheduled campaigns when their time comes, checking every 30 seconds while the server runs. */
export function scheduleCampaigns(deps: Deps): () => void {
  const tick = async () => {
    for (const id of await dueCampaigns(deps.db, deps.clock.now())) {
      await startCampaign(deps, id).catch((error) =>
        deps.logger.error({ err: error, campaign: id }, 'scheduled campaign did not start'),
      );
    }
  };
  return every(deps, 30_000, 'campaign schedule check', tick);
}
