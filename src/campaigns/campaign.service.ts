// Campaigns from draft to done: templates, the holdout drawn at start, sending as a background job,
// pause and resume, lists for the channels Kept does not send itself, campaigns run elsewhere.
import { listLimit } from '../shared/http.ts';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import { array, queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { normaliseRef } from '../customers/identity.ts';
import { resolveCustomers } from '../customers/customer.repository.ts';
import { every, startJob } from '../jobs/job.service.ts';
import { scoringRun } from '../segments/segment.repository.ts';
import { findSegment, membersOf } from '../segments/segment.service.ts';
import { AppError } from '../shared/errors.ts';
import { wallTimeToInstant } from '../shared/time.ts';
import { assignMembers, complaintRate, messageAnswered, personalisation, suppressAddress } from './campaign.repository.ts';
import { upsertTouchpoints } from '../channels/touchpoint.repository.ts';
import { recordConsent } from '../customers/consent.repository.ts';
import type { Arm } from './campaign.schema.ts';
import { complaintRefuseRate, controlArm, type campaignBody, type CampaignStatus, type externalCampaignBody } from './campaign.ts';
import { blockingFlags, templateContext, mailLinks } from './send.service.ts';
import { compileTemplate, renderMail, TemplateError, type templateBody } from './template.ts';

export interface Campaign {
  id: number; name: string; kind: string; channel: string; segmentId: number | null; arms: Arm[]; holdoutShare: number; consentList: string;
  scheduledAt: string | null; timeZone: string; status: CampaignStatus; statusReason: string | null; external: boolean;
  createdBy: string; createdAt: string; startedAt: string | null; finishedAt: string | null; members: number | null;
}
const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const toCampaign = (r: Record<string, unknown>): Campaign => ({
  id: Number(r.id), name: r.name as string, kind: r.kind as string, channel: r.channel as string, segmentId: r.segment_id === null ? null : Number(r.segment_id),
  arms: r.arms as Arm[], holdoutShare: Number(r.holdout_share), consentList: r.consent_list as string, scheduledAt: iso(r.scheduled_at), timeZone: r.time_zone as string,
  status: r.status as CampaignStatus, statusReason: r.status_reason as string | null, external: r.external !== null, createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), members: r.members === null ? null : Number(r.members),
});

export async function findCampaign(deps: Deps, id: number): Promise<Campaign> {
  const [row] = await queryRows<Record<string, unknown>>(deps.db, sql`select * from campaigns where id = ${id}`);
  if (!row) throw new AppError('not_found', `No campaign ${id}`);
  return toCampaign(row);
}

export async function listCampaigns(deps: Deps): Promise<(Campaign & { counts: Record<string, number> })[]> {
  const rows = await queryRows<Record<string, unknown>>(deps.db, sql`
    select c.*, (select jsonb_object_agg(status, n) from (select status, count(*)::int as n from campaign_members m where m.campaign_id = c.id group by 1) s) as counts
    from campaigns c where c.status <> 'journey' order by c.id desc limit 500`);
  return rows.map((r) => ({ ...toCampaign(r), counts: (r.counts as Record<string, number>) ?? {} }));
}

// --- templates

export async function saveTemplate(deps: Deps, principal: Principal, body: z.infer<typeof templateBody>, id?: number) {
  try {
    compileTemplate(body);
  } catch (error) {
    throw new AppError('validation_failed', 'The template does not parse', { issues: [{ path: 'body', message: (error as Error).message }] });
  }
  const now = deps.clock.now().toISOString();
  const rows = id === undefined
    ? await queryRows<{ id: number }>(deps.db, sql`insert into templates (name, subject, body, created_by, created_at, updated_at)
        values (${body.name}, ${body.subject}, ${body.body}, ${principalName(principal)}, ${now}, ${now}) returning id`)
    : await queryRows<{ id: number }>(deps.db, sql`update templates set name = ${body.name}, subject = ${body.subject}, body = ${body.body}, updated_at = ${now} where id = ${id} returning id`);
  if (rows.length === 0) throw new AppError('not_found', `No template ${id}`);
  return findTemplate(deps, rows[0].id);
}

export async function findTemplate(deps: Deps, id: number) {
  const [row] = await queryRows<{ id: number; name: string; subject: string; body: string; updated_at: string }>(deps.db, sql`select id, name, subject, body, updated_at from templates where id = ${id}`);
  if (!row) throw new AppError('not_found', `No template ${id}`);
  return { id: row.id, name: row.name, subject: row.subject, body: row.body, updatedAt: iso(row.updated_at)! };
}

export async function listTemplates(deps: Deps) {
  return queryRows<{ id: number; name: string; subject: string }>(deps.db, sql`select id, name, subject from templates order by lower(name), id limit ${listLimit}`);
}

/** The mail as one customer would get it: subject, HTML and the generated plain text. */
export async function previewTemplate(deps: Deps, template: { subject: string; body: string }, customerId: number, arm = 'A') {
  const [person] = await personalisation(deps.db, [customerId], await scoringRun(deps.db));
  if (!person) throw new AppError('not_found', `No customer ${customerId}`);
  try {
    return await renderMail(compileTemplate(template), templateContext(person, { name: 'Preview' }, arm, await mailLinks(deps, 0, customerId)));
  } catch (error) {
    if (error instanceof TemplateError) throw new AppError('validation_failed', 'The template does not render', { issues: [{ path: 'body', message: error.message }] });
    throw error;
  }
}

// --- campaigns

export async function createCampaign(deps: Deps, principal: Principal, body: z.infer<typeof campaignBody>): Promise<Campaign> {
  await findSegment(deps.db, body.segmentId);
  const issues: { path: string; message: string }[] = [];
  for (const [i, arm] of body.arms.entries()) {
    if (body.channel !== 'email') continue;
    if (arm.templateId === null) issues.push({ path: `arms.${i}.templateId`, message: 'an email arm needs a template' });
    else if ((await queryRows(deps.db, sql`select 1 from templates where id = ${arm.templateId}`)).length === 0) issues.push({ path: `arms.${i}.templateId`, message: `no template ${arm.templateId}` });
  }
  const timeZone = body.timeZone ?? deps.config.timeZone;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    issues.push({ path: 'timeZone', message: `not an IANA time zone: ${JSON.stringify(timeZone)}` });
  }
  if (issues.length > 0) throw new AppError('validation_failed', 'The campaign is not valid', { issues });
  const scheduledAt = body.scheduledAt ? wallTimeToInstant(body.scheduledAt, timeZone) : null;
  if (scheduledAt && scheduledAt < deps.clock.now()) throw new AppError('validation_failed', 'The campaign is not valid', { issues: [{ path: 'scheduledAt', message: `${body.scheduledAt} in ${timeZone} is in the past` }] });
  const [{ id }] = await queryRows<{ id: number }>(deps.db, sql`
    insert into campaigns (name, kind, channel, segment_id, arms, holdout_share, consent_list, scheduled_at, time_zone, status, created_by, created_at)
    values (${body.name}, ${body.kind}, ${body.channel}, ${body.segmentId}, ${JSON.stringify(body.arms)}::jsonb, ${body.holdoutShare}, ${body.consentList},
      ${scheduledAt?.toISOString() ?? null}::timestamptz, ${timeZone}, ${scheduledAt ? 'scheduled' : 'draft'}, ${principalName(principal)}, ${deps.clock.now().toISOString()}::timestamptz)
    returning id`);
  return findCampaign(deps, id);
}

/**
 * Starts a campaign: refuses when complaints are at Gmail's 0.3 %, takes the segment's members now,
 * draws the holdout and the arms, then sends (email) or lists (other channels) the treated.
 */
export async function startCampaign(deps: Deps, id: number): Promise<Campaign> {
  const campaign = await findCampaign(deps, id);
  if (!['draft', 'scheduled'].includes(campaign.status)) throw new AppError('conflict', `Campaign ${id} is ${campaign.status}; only a draft or scheduled campaign starts`);
  const now = deps.clock.now();
  if (campaign.channel === 'email') {
    const health = await complaintRate(deps.db, now);
    if (health.rate >= complaintRefuseRate) {
      throw new AppError('conflict', `Not starting: ${health.complaints} complaints in ${health.sent} messages over 30 days is ${(100 * health.rate).toFixed(2)} %, at or above ${100 * complaintRefuseRate} %`);
    }
  }
  const members = await membersOf(deps, await findSegment(deps.db, campaign.segmentId!));
  const count = await deps.db.transaction(async (tx) => {
    const [claimed] = await queryRows<{ id: number }>(tx, sql`update campaigns set status = 'sending', started_at = ${now.toISOString()}::timestamptz where id = ${id} and status in ('draft', 'scheduled') returning id`);
    if (!claimed) throw new AppError('conflict', `Campaign ${id} was started by someone else`);
    const n = await assignMembers(tx, { id, arms: campaign.arms, holdoutShare: campaign.holdoutShare }, members, now, campaign.channel === 'email' ? 'queued' : 'listed');
    if (campaign.channel !== 'email') await suppressList(tx, id, campaign.consentList, deps.config.mail.consent);
    // An empty segment, or a list channel, is done at once; email waits for its sender.
    const sending = campaign.channel === 'email' && n > 0;
    await tx.execute(sql`update campaigns set members = ${n}, status = ${sending ? 'sending' : 'done'},
      finished_at = ${sending ? null : now.toISOString()}::timestamptz where id = ${id}`);
    return n;
  });
  if (campaign.channel === 'email' && count > 0) await startJob(deps, 'campaign.send', { campaignId: id });
  return findCampaign(deps, id);
}

/** Call lists and mailing files carry the same suppression as email, by flag and consent. */
async function suppressList(tx: Parameters<typeof assignMembers>[0], campaignId: number, consentList: string, consentMode: 'opt-in' | 'unless-withdrawn') {
  await tx.execute(sql`
    update campaign_members m set status = 'suppressed', reason = case
        when c.flags && ${array(blockingFlags)}::text[] then 'flag ' || replace((select f from unnest(c.flags) f where f = any(${array(blockingFlags)}::text[]) limit 1), '_', ' ')
        when k.granted = false then 'unsubscribed' else 'no consent on record' end
    from customers c left join lateral (select granted from consent_ledger k where k.customer_id = c.id and k.list = ${consentList} order by k.at desc, k.id desc limit 1) k on true
    where m.campaign_id = ${campaignId} and m.status = 'listed' and c.id = m.customer_id
      and (c.flags && ${array(blockingFlags)}::text[] or k.granted = false or (k.granted is null and ${consentMode} = 'opt-in'))`);
}

export async function setCampaignStatus(deps: Deps, principal: Principal, id: number, to: 'paused' | 'sending' | 'cancelled'): Promise<Campaign> {
  const campaign = await findCampaign(deps, id);
  const allowed: Record<typeof to, CampaignStatus[]> = { paused: ['sending'], sending: ['paused'], cancelled: ['draft', 'scheduled', 'sending', 'paused'] };
  if (!allowed[to].includes(campaign.status)) throw new AppError('conflict', `Campaign ${id} is ${campaign.status}; it cannot be ${to === 'sending' ? 'resumed' : to}`);
  if (to === 'sending') {
    const health = await complaintRate(deps.db, deps.clock.now());
    if (health.rate >= complaintRefuseRate) throw new AppError('conflict', `Not resuming: complaints are ${(100 * health.rate).toFixed(2)} % over 30 days`);
  }
  await deps.db.execute(sql`update campaigns set status = ${to}, status_reason = ${to === 'sending' ? null : `${to} by ${principalName(principal)}`},
    finished_at = ${to === 'cancelled' ? deps.clock.now().toISOString() : null}::timestamptz where id = ${id}`);
  if (to === 'cancelled') await deps.db.execute(sql`update campaign_members set status = 'suppressed', reason = 'campaign cancelled' where campaign_id = ${id} and status = 'queued'`);
  if (to === 'sending') await startJob(deps, 'campaign.send', { campaignId: id });
  return findCampaign(deps, id);
}

/** A campaign run elsewhere (another mail tool, a mailing house): who was in which arm and when, measured like ours. */
export async function recordExternalCampaign(deps: Deps, principal: Principal, body: z.infer<typeof externalCampaignBody>) {
  const { ids } = await resolveCustomers(deps.db, body.members.map((m) => normaliseRef(m.customer, deps.config.defaultCountry)), { source: 'campaign', createMissing: false });
  const unknown = body.members.map((m, i) => ({ m, i })).filter(({ i }) => ids[i] === null || ids[i] === undefined);
  if (unknown.length > 0) {
    throw new AppError('validation_failed', `${unknown.length} member${unknown.length === 1 ? '' : 's'} are not known customers; nothing was recorded`, {
      issues: unknown.slice(0, 50).map(({ m, i }) => ({ path: `members.${i}.customer`, message: `no customer ${m.customer.externalId ?? m.customer.email}` })),
    });
  }
  const arms = [...new Set(body.members.map((m) => m.arm))].filter((a) => a.toLowerCase() !== controlArm).map((name) => ({ name, templateId: null, share: 1 }));
  const now = deps.clock.now().toISOString();
  return deps.db.transaction(async (tx) => {
    const [{ id }] = await queryRows<{ id: number }>(tx, sql`
      insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, external, created_by, created_at, started_at, finished_at, members)
      values (${body.name}, ${body.kind}, ${body.channel}, ${JSON.stringify(arms)}::jsonb, ${body.members.filter((m) => m.arm.toLowerCase() === controlArm).length / body.members.length},
        ${body.consentList}, ${deps.config.timeZone}, 'external', 'recorded through the API', ${principalName(principal)}, ${now},
        (select min(t) from unnest(${array(body.members.map((m) => m.sentAt))}::timestamptz[]) t), ${now}, ${body.members.length}) returning id`);
    await tx.execute(sql`
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
      select ${id}, u.customer_id, case when lower(u.arm) = ${controlArm} then ${controlArm} else u.arm end, case when lower(u.arm) = ${controlArm} then 'holdout' else 'external' end, u.at, u.at
      from unnest(${array(ids as number[])}::bigint[], ${array(body.members.map((m) => m.arm))}::text[], ${array(body.members.map((m) => m.sentAt))}::timestamptz[]) as u(customer_id, arm, at)
      on conflict do nothing`);
    return { id };
  });
}

/**
 * Bounces and complaints from the mail server or provider: a hard bounce or a complaint stops all
 * mail to the address; a complaint also withdraws consent; each is on the customer's timeline.
 */
export async function recordMailFeedback(deps: Deps, events: { kind: 'hard_bounce' | 'soft_bounce' | 'complaint'; email: string; messageId?: string; at?: string }[]) {
  let matched = 0;
  for (const e of events) {
    const at = e.at ? new Date(e.at) : deps.clock.now();
    const member = await messageAnswered(deps.db, e);
    await deps.db.transaction(async (tx) => {
      if (e.kind !== 'soft_bounce') await suppressAddress(tx, { email: e.email, reason: e.kind, at, campaignId: member?.campaign_id ?? null });
      if (!member) return;
      matched++;
      await upsertTouchpoints(tx, [{ customerId: member.customer_id, externalId: `campaign:${member.campaign_id}:${e.kind}`, at, channel: 'email', direction: 'in',
        kind: e.kind === 'complaint' ? 'email_complaint' : `email_${e.kind}`, campaign: member.name, detail: { campaignId: member.campaign_id, email: e.email } }]);
      if (e.kind === 'complaint') await recordConsent(tx, [{ customerId: member.customer_id, list: member.consent_list, granted: false, at, source: 'complaint', wording: 'Marked a campaign mail as spam' }]);
    });
  }
  return { recorded: events.length, matched };
}

/** Starts scheduled campaigns when their time comes, checking every 30 seconds while the server runs. */
export function scheduleCampaigns(deps: Deps): () => void {
  const tick = async () => {
    const due = await queryRows<{ id: number }>(deps.db, sql`select id from campaigns where status = 'scheduled' and scheduled_at <= ${deps.clock.now().toISOString()}::timestamptz order by scheduled_at`);
    for (const { id } of due) await startCampaign(deps, id).catch((error) => deps.logger.error({ err: error, campaign: id }, 'scheduled campaign did not start'));
  };
  return every(deps, 30_000, 'campaign schedule check', tick);
}
