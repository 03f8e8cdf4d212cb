// The demo shop's marketing, planted with known effects: the newsletter, the campaigns of the last
// two years with their random holdouts (recorded in Kept after loading, so their reports show lift
// with intervals on the first start), and the order confirmations. Pure: the caller's random streams.
import type { Rng } from '../shared/random.ts';
import { demoRules } from './rules.ts';

const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const between = (rng: Rng, low: number, high: number) => low + rng() * (high - low);
type Add = (type: string, at: number, fields: Record<string, unknown>) => void;

/** A campaign of the demo's past: mailings at set times (one holdout kept for all), or a journey entered on going quiet. */
export interface PastCampaign {
  name: string;
  kind: 'win_back' | 'announcement';
  /** The chance that a mail makes a treated member order within the window (0: no effect). */
  response: number;
  send: { at: number[] } | { quietBetween: { from: number; to: number } };
}

/** One member of a past campaign as of their first send, with what generation knows and the data cannot tell. */
export interface PastMember {
  campaign: string;
  arm: 'mail' | 'control';
  at: number;
  /** Ordered within the window after the first send without that mail. */
  anyway: boolean;
  /** Would order within it because of that mail if mailed (drawn in both arms, placed only for the treated). */
  responds: boolean;
}

/** The past campaigns of the store ending at `end`: the journey, the win-back mailing, the catalogue; their names carry their years. */
export function pastCampaigns(end: Date): PastCampaign[] {
  const R = demoRules.pastCampaigns;
  const last = end.getTime();
  const yearAgo = last - 365 * day;
  const year = (ms: number) => new Date(ms).getUTCFullYear();
  const nine = (ms: number) => Math.floor(ms / day) * day + 9 * 3_600_000;
  const sends = Array.from({ length: R.winBack.sends }, (_, k) =>
    nine(yearAgo + (R.winBack.firstDaysIntoYear + k * R.winBack.everyDays) * day),
  );
  const [first, final] = [year(sends[0]), year(sends.at(-1)!)];
  // The latest mid-March whose window is over by the end.
  const march = (y: number) => Date.UTC(y, R.catalogue.month - 1, R.catalogue.day, 9);
  const catalogue = march(year(last)) + (R.windowDays + 1) * day <= last ? march(year(last)) : march(year(last) - 1);
  return [
    {
      name: `${R.journey.name} (${year(yearAgo)})`,
      kind: 'win_back' as const,
      response: R.journey.response,
      send: { quietBetween: { from: last - demoRules.years * 365 * day, to: yearAgo } },
    },
    {
      name: `${R.winBack.name} (${first === final ? first : `${first}-${String(final).slice(2)}`})`,
      kind: 'win_back' as const,
      response: R.winBack.response,
      send: { at: sends },
    },
    {
      name: `${R.catalogue.name} (${year(catalogue)})`,
      kind: 'announcement' as const,
      response: R.catalogue.response,
      send: { at: [catalogue] },
    },
  ];
}

/** The newsletter every `newsletterEveryDays` from sign-up while `until`, and the opens. */
export function newsletterEvents(rng: Rng, add: Add, from: number, until: number): void {
  const R = demoRules;
  for (let t = from + between(rng, 1, R.newsletterEveryDays) * day; t < until; t += R.newsletterEveryDays * day) {
    const campaign = `newsletter-${iso(t).slice(0, 7)}`;
    add('touchpoint', t, { channel: 'email', direction: 'out', kind: 'email_sent', campaign });
    if (rng() < R.openShare)
      add('touchpoint', t + between(rng, 0.1, 3) * day, {
        channel: 'email',
        direction: 'in',
        kind: 'email_opened',
        campaign,
      });
  }
}

/**
 * One subscriber's part in the past campaigns. At each send they qualify for (reachable: alive and
 * not asked to be left alone; for a win-back, quiet for `quietDays`; for the rest, a buyer), the
 * first draws their arm for the whole campaign; the treated get the mail (and may open it) and,
 * with the campaign's response chance, an order within the window. `orders` are the times of the
 * customer's own orders; the orders the mails brought are returned for the caller to fill in.
 */
export function pastCampaignHistory(
  rng: Rng,
  add: Add,
  customer: { orders: number[]; reachableUntil: number; aliveUntil: number },
  campaigns: PastCampaign[],
): { members: PastMember[]; orders: number[] } {
  const R = demoRules.pastCampaigns;
  const orders = [...customer.orders];
  const quiet = (at: number) => {
    const before = orders.filter((o) => o < at);
    return before.length > 0 && Math.max(...before) <= at - R.quietDays * day;
  };
  // A journey is entered at the first moment of its year with no order for `quietDays`; the
  // mailings' effects come later, so the customer's own orders decide it.
  const sends = campaigns
    .flatMap((campaign) => {
      const send = campaign.send;
      if ('at' in send) return send.at.map((at) => ({ campaign, at }));
      const { from, to } = send.quietBetween;
      const at = orders.map((o) => o + R.quietDays * day).find((t) => t >= from && t < to && quiet(t));
      return at === undefined ? [] : [{ campaign, at }];
    })
    .sort((a, b) => a.at - b.at);
  const arms = new Map<string, PastMember['arm']>();
  const members: PastMember[] = [];
  const placed: number[] = [];
  for (const { campaign, at } of sends) {
    const eligible = campaign.kind === 'win_back' ? quiet(at) : orders.some((o) => o < at);
    if (!eligible || at >= customer.reachableUntil) continue;
    let arm = arms.get(campaign.name);
    const first = arm === undefined;
    if (arm === undefined) arms.set(campaign.name, (arm = rng() < R.holdout ? 'control' : 'mail'));
    const anyway = orders.some((o) => o > at && o <= at + R.windowDays * day);
    const orderAt = at + between(rng, 1, R.windowDays - 1) * day;
    const responds = rng() < campaign.response && orderAt < customer.aliveUntil;
    const opened = rng() < demoRules.openShare;
    if (first) members.push({ campaign: campaign.name, arm, at, anyway, responds });
    if (arm === 'control') continue;
    add('touchpoint', at, { channel: 'email', direction: 'out', kind: 'email_sent', campaign: campaign.name });
    if (opened)
      add('touchpoint', at + between(rng, 0.05, 2) * day, {
        channel: 'email',
        direction: 'in',
        kind: 'email_opened',
        campaign: campaign.name,
      });
    if (responds) {
      orders.push(orderAt);
      placed.push(orderAt);
    }
  }
  return { members, orders: placed };
}

/** The shop's order confirmation within minutes of each web and mobile order: transactional mail, no marketing. */
export function orderConfirmations(rng: Rng, add: Add, orders: { orderId: string; at: number; channel: string }[]) {
  const R = demoRules.orderConfirmation;
  for (const order of orders) {
    if (!(R.channels as readonly string[]).includes(order.channel)) continue;
    add('touchpoint', order.at + between(rng, R.minutes.low, R.minutes.high) * 60_000, {
      channel: 'email',
      direction: 'out',
      kind: 'email_sent',
      campaign: R.campaign,
      detail: { transactional: true, orderId: order.orderId },
    });
  }
}
