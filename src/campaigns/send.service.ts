// Sending a campaign: claim a few ledger rows, check each recipient at send time, render, hand to
// SMTP, confirm. At most one copy per recipient (P09): a row is claimed before SMTP and confirmed
// after; a crash in between leaves it 'sending', which turns 'unknown' after the lease and is never
// sent again. Suppression is read per batch, moments before the messages go (P10).
import { randomUUID } from 'node:crypto';
import { signToken } from '../auth/signing.ts';
import { publicBase } from '../config.ts';
import type { Deps } from '../deps.ts';
import { upsertTouchpoints } from '../channels/index.ts';
import { isPermanent, smtpConnections } from '../mail/mailer.ts';
import { scoringRun } from '../segments/index.ts';
import {
  claimBatch,
  closeWhenDrained,
  complaintRate,
  expireClaims,
  personalisation,
  recipients,
  releaseRequeued,
  selectCampaign,
  selectTemplate,
  sendProgress,
  settleMembers,
  updateCampaign,
  type Personal,
  type Recipient,
} from './campaign.repository.ts';
import { flagReason, type FlagUse } from '../customers/index.ts';
import { complaintPauseRate, type MemberStatus } from './campaign.ts';
import { compileTemplate, renderMail, share, type TemplateContext } from './template.ts';

export interface SendOptions {
  worker?: string;
  batchSize?: number;
  /** Test hooks: called after SMTP accepted a message and before it is confirmed; throwing there is a crash. */
  afterAccept?: (customerId: number) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Why a customer may not get this message now, or null. The status flags as src/customers/flags.ts
 * defines them for the message's use (marketing unless said otherwise). A transactional message
 * (about their order) needs no marketing consent and is outside the cap.
 */
export function suppressionReason(
  r: Recipient,
  options: {
    consentMode: 'opt-in' | 'unless-withdrawn';
    cap: number;
    capDays: number;
    transactional?: boolean;
    use?: FlagUse;
  },
): string | null {
  const flag = flagReason(r.flags, options.use ?? (options.transactional ? 'transactional' : 'marketing'));
  if (flag) return flag;
  if (!r.email) return 'no email address';
  if (r.address_suppressed) return `address suppressed after a ${r.address_suppressed.replace(/_/g, ' ')}`;
  if (options.transactional) return null;
  if (r.consent === false) return 'unsubscribed';
  if (r.consent === null && options.consentMode === 'opt-in') return 'no consent on record';
  if (r.recent_sends >= options.cap)
    return `frequency cap: ${r.recent_sends} marketing messages in the last ${options.capDays} days`;
  return null;
}

const firstName = (name: string | null) => (name ?? '').trim().split(/\s+/)[0] ?? '';

/** Links in the HTML go through the signed click redirect; an invisible pixel reports the open. */
export async function track(deps: Deps, html: string, campaignId: number, customerId: number): Promise<string> {
  const base = publicBase(deps.config);
  const who = `${campaignId}.${customerId}`;
  const links = new Map<string, string>();
  for (const [, , url] of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*(["'])(https?:\/\/[^"']+)\1/gi)) {
    // Our own pages (unsubscribe, preferences, personal survey links) record what the customer does there already.
    if (
      !links.has(url) &&
      !url.startsWith(`${base}/u/`) &&
      !url.startsWith(`${base}/p/`) &&
      !url.startsWith(`${base}/s/`)
    )
      links.set(
        url,
        `${base}/t/c/${await signToken(deps, 'click', `${who}.${Buffer.from(url).toString('base64url')}`)}`,
      );
  }
  const tracked = html.replace(
    /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi,
    (all, start: string, quote: string, url: string) =>
      links.has(url) ? `${start}${quote}${links.get(url)!.replace(/&/g, '&amp;')}${quote}` : all,
  );
  return `${tracked}\n<img src="${base}/t/o/${await signToken(deps, 'open', who)}" width="1" height="1" alt="" style="display:none">`;
}

export interface MailLinks {
  unsubscribe: string;
  preferences: string;
}

/** The way out of one campaign (one click) and the customer's page of every list (mail.page.ts). */
export async function mailLinks(deps: Deps, campaignId: number, customerId: number): Promise<MailLinks> {
  const base = publicBase(deps.config);
  return {
    unsubscribe: `${base}/u/${await signToken(deps, 'unsubscribe', `${campaignId}.${customerId}`)}`,
    preferences: `${base}/p/${await signToken(deps, 'preferences', String(customerId))}`,
  };
}

export function templateContext(
  p: Personal,
  campaign: { name: string },
  arm: string,
  links: MailLinks,
  extra: Pick<TemplateContext, 'order' | 'links' | 'trigger'> = {},
): TemplateContext {
  return {
    ...extra,
    customer: {
      id: p.customer_id,
      name: p.name ?? '',
      first_name: firstName(p.name),
      email: p.email,
      stage: p.stage,
      external_id: p.external_id,
      attributes: p.attributes,
      interests: p.interests ?? [],
      purchases: p.purchases ?? [],
      orders: p.orders,
      last_order_date: p.last_order_date,
      next_order_date: p.next_order_date,
      p_alive: share(p.p_alive),
      satisfaction: p.satisfaction === null ? null : Math.round(p.satisfaction),
    },
    campaign: { name: campaign.name, arm },
    unsubscribe_url: links.unsubscribe,
    preferences_url: links.preferences,
  };
}

/**
 * Sends what is queued for the campaign until nothing is left, the campaign is paused or
 * cancelled, or complaints reach the pause rate. Several workers may run at once.
 */
export async function sendCampaign(
  deps: Deps,
  campaignId: number,
  options: SendOptions = {},
): Promise<{ sent: number; suppressed: number; failed: number; paused?: string }> {
  const worker = options.worker ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  const batchSize = options.batchSize ?? 20;
  const mail = deps.config.mail;
  const tally = { sent: 0, suppressed: 0, failed: 0 };
  const campaign = await selectCampaign(deps.db, campaignId);
  if (!campaign) throw new Error(`no campaign ${campaignId}`);
  const templates = new Map<string, ReturnType<typeof compileTemplate>>();
  for (const arm of campaign.arms) {
    const template = arm.templateId === null ? undefined : await selectTemplate(deps.db, arm.templateId);
    if (!template) throw new Error(`arm ${arm.name} of campaign ${campaignId} has no template`);
    templates.set(arm.name, compileTemplate(template));
  }
  const runId = await scoringRun(deps.db);
  const gap = 1000 / mail.sendRate;
  const host = new URL(publicBase(deps.config)).hostname;
  const parallel = smtpConnections;
  let nextSlot = Date.now();
  const { total, done } = await sendProgress(deps.db, campaignId);
  // Progress of this worker, counted as it goes (counting the ledger each batch would grow with the campaign).
  let finished = done;
  let lastHealthCheck = 0;

  for (;;) {
    if ((await selectCampaign(deps.db, campaignId))?.status !== 'sending') return tally;
    // Sender health is a 30-day figure: reading it every few seconds is often enough.
    if (Date.now() - lastHealthCheck > 5000) {
      lastHealthCheck = Date.now();
      const health = await complaintRate(deps.db, deps.clock.now());
      if (health.rate >= complaintPauseRate) {
        const reason = `complaint rate ${(100 * health.rate).toFixed(2)} % over 30 days (${health.complaints} of ${health.sent}) reached ${100 * complaintPauseRate} %`;
        await updateCampaign(deps.db, campaignId, { status: 'paused', statusReason: reason }, ['sending']);
        return { ...tally, paused: reason };
      }
    }
    await expireClaims(deps.db, campaignId, mail.leaseSeconds, deps.clock.now());
    const claimed = await deps.db.transaction((tx) => claimBatch(tx, campaignId, worker, batchSize, deps.clock.now()));
    if (claimed.length === 0) {
      // Another worker holds the rest; it confirms them or they expire into unknown.
      if ((await closeWhenDrained(deps.db, campaignId, deps.clock.now())) === 0) return tally;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, mail.leaseSeconds * 250)));
      continue;
    }
    const now = deps.clock.now();
    const since = new Date(now.getTime() - mail.frequencyDays * 86_400_000);
    const checks = new Map(
      (
        await recipients(
          deps.db,
          campaignId,
          claimed.map((c) => c.customer_id),
          campaign.consentList,
          since,
        )
      ).map((r) => [r.customer_id, r]),
    );
    const people = new Map(
      (
        await personalisation(
          deps.db,
          claimed.map((c) => c.customer_id),
          runId,
        )
      ).map((p) => [p.customer_id, p]),
    );
    const settled: Parameters<typeof settleMembers>[2] = [];
    const touchpoints: Parameters<typeof upsertTouchpoints>[1] = [];
    const deliver = async ({ customer_id: customerId, arm }: { customer_id: number; arm: string }) => {
      const recipient = checks.get(customerId);
      const reason = recipient
        ? suppressionReason(recipient, {
            consentMode: mail.consent,
            cap: mail.frequencyCap,
            capDays: mail.frequencyDays,
          })
        : 'customer no longer exists';
      if (reason) {
        settled.push({
          customerId,
          status: 'suppressed',
          reason,
          email: recipient?.email ?? null,
          messageId: null,
          sentAt: null,
        });
        tally.suppressed++;
        return;
      }
      const links = await mailLinks(deps, campaignId, customerId);
      let rendered;
      try {
        rendered = await renderMail(
          templates.get(arm)!,
          templateContext(people.get(customerId)!, campaign, arm, links),
        );
      } catch (error) {
        settled.push({
          customerId,
          status: 'failed',
          reason: `template: ${(error as Error).message}`.slice(0, 500),
          email: recipient!.email,
          messageId: null,
          sentAt: null,
        });
        tally.failed++;
        return;
      }
      const messageId = `<kept.${campaignId}.${customerId}.${randomUUID()}@${host}>`;
      const html = await track(deps, rendered.html, campaignId, customerId);
      const wait = nextSlot - Date.now();
      nextSlot = Math.max(nextSlot, Date.now()) + gap;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      let status: MemberStatus = 'sent';
      let failure: string | null = null;
      try {
        await deps.mailer.send({
          to: recipient!.email!,
          subject: rendered.subject,
          text: rendered.text,
          html,
          messageId,
          headers: {
            'List-Unsubscribe': `<${links.unsubscribe}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            'X-Kept-Campaign': String(campaignId),
          },
        });
      } catch (error) {
        // Refused for good: failed. Not accepted for now (connection, 4xx): back in the queue, safe to retry.
        status = isPermanent(error) ? 'failed' : 'queued';
        failure = (error as Error).message.slice(0, 500);
      }
      if (status === 'sent') options.afterAccept?.(customerId);
      settled.push({
        customerId,
        status,
        reason: failure,
        email: recipient!.email,
        messageId: status === 'sent' ? messageId : null,
        sentAt: status === 'sent' ? deps.clock.now() : null,
      });
      if (status === 'sent') {
        tally.sent++;
        touchpoints.push({
          customerId,
          externalId: `campaign:${campaignId}:sent`,
          at: deps.clock.now(),
          channel: 'email',
          direction: 'out',
          kind: 'email_sent',
          campaign: campaign.name,
          detail: { campaignId, arm, subject: rendered.subject },
        });
      } else if (status === 'failed') tally.failed++;
    };
    // As many messages in flight as the mailer has connections; a crash (a throw) stops the batch unconfirmed.
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(parallel, claimed.length) }, async () => {
        while (next < claimed.length) await deliver(claimed[next++]);
      }),
    );
    await deps.db.transaction(async (tx) => {
      await settleMembers(tx, campaignId, settled);
      await upsertTouchpoints(tx, touchpoints);
    });
    // Requeued rows go back with their claim cleared, so the lease does not turn them unknown.
    await releaseRequeued(deps.db, campaignId, worker);
    if (settled.some((s) => s.status === 'queued')) await new Promise((resolve) => setTimeout(resolve, 1000));
    finished += settled.filter((r) => r.status !== 'queued').length;
    options.onProgress?.(finished, total);
  }
}
