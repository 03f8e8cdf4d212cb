// The demo store: two years of a small homeware shop, generated customer by customer from a seed,
// with cause and effect built in (docs/demo-data.md). Pure: the same seed and end give the same events.
import { inUniversalControl } from '../campaigns/index.ts';
import type { Deps } from '../deps.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { beta, gamma, normal, random, type Rng } from '../shared/random.ts';
import {
  newsletterEvents,
  orderConfirmations,
  pastCampaignHistory,
  pastCampaigns,
  type PastMember,
} from './marketing.ts';
import { customerIdsByExternalId, refreshStatistics } from './demo.repository.ts';
import { recordPastCampaigns } from './record.ts';
import { demoRules } from './rules.ts';
import {
  firstNames,
  lastNames,
  cities,
  streets,
  catalogue,
  problemReasons,
  goodWords,
  badWords,
  agents,
} from './shop.ts';

export { demoRules } from './rules.ts';

export interface DemoOptions {
  customers: number;
  seed: number;
  end: Date;
}
type Event = Record<string, unknown> & { id: string; type: string; at?: string };

const day = 86_400_000;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
function weighted<T extends string>(rng: Rng, weights: Record<T, number>): T {
  let u = rng() * Object.values<number>(weights).reduce((a, b) => a + b, 0);
  for (const [key, weight] of Object.entries<number>(weights)) if ((u -= weight) < 0) return key as T;
  return Object.keys(weights)[0] as T;
}
const between = (rng: Rng, low: number, high: number) => low + rng() * (high - low);

const iso = (ms: number) => new Date(ms).toISOString();
const money = (value: number) => value.toFixed(2);
/** An order's lines: 1-4, mostly one. */
const basket = (rng: Rng) =>
  Array.from({ length: 1 + Math.floor(rng() * rng() * 4) }, () => {
    const [, name, category, price] = pick(rng, catalogue);
    return { product: name, category, quantity: rng() < 0.85 ? 1 : 2, unitPrice: money(price) };
  });

/** What generation needs to know about a customer that only Kept knows: whether they are in the universal control group. */
export interface CustomerContext {
  /** Held out of all marketing (src/campaigns/programme.ts, a hash of Kept's id): no newsletter, no campaign. */
  universalControl: boolean;
}
const marketed: CustomerContext = { universalControl: false };

/** One customer's events, in time order and none after `end`, and their part in the past campaigns. */
export interface CustomerHistory {
  events: Event[];
  members: PastMember[];
}

// Each part of a customer's story draws from a random stream of its own, so one part (a newsletter
// not sent to the universal control group, say) leaves the draws of the others as they were. The
// first two keep the seeds they always had; the others hash seed, customer and part together
// (murmur3's finaliser), so neighbouring customers' streams share nothing.
const mix = (...values: number[]) =>
  values.reduce((h, v) => {
    let x = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  }, 0x9e3779b9);
const streams = {
  life: (seed: number, index: number) => (seed * 2_654_435_761 + index * 40_503) >>> 0,
  subscriptions: (seed: number, index: number) => (seed * 2_246_822_519 + index * 3_266_489_917) >>> 0,
  newsletters: (seed: number, index: number) => mix(seed, index, 1),
  campaigns: (seed: number, index: number) => mix(seed, index, 2),
  confirmations: (seed: number, index: number) => mix(seed, index, 3),
};
const stream = (options: DemoOptions, index: number, name: keyof typeof streams) =>
  random(streams[name](options.seed, index));
/** Customers are D<seed>-<n>: two seeds make two sets of customers. */
const externalPrefix = (options: DemoOptions) => `D${options.seed}-`;
const externalId = (options: DemoOptions, index: number) => `${externalPrefix(options)}${index}`;

/** The customer's record as they signed up: the same whatever happens to them later. */
function signUp(options: DemoOptions, index: number, rng: Rng) {
  const end = options.end.getTime();
  const start = end - demoRules.years * 365 * day;
  // Acquisition grows over the two years (density rising with time).
  const createdAt = Math.floor(start + Math.pow(rng(), 1 / 1.6) * (end - start - day));
  const first = pick(rng, firstNames);
  const last = pick(rng, lastNames);
  const channel = weighted(rng, { web: 35, social: 20, store: 20, email: 10, display: 10, direct_mail: 5 });
  const [city, country, postalCode] = pick(rng, cities);
  const newsletter = rng() < demoRules.newsletterShare;
  const ascii = (s: string) => s.normalize('NFKD').replace(/[^\w]/g, '').toLowerCase();
  const upsert: Event = {
    id: `demo-${options.seed}-${index}-1`,
    type: 'customer.upsert',
    at: iso(createdAt),
    customer: {
      externalId: externalId(options, index),
      email: `${ascii(first)}.${ascii(last)}${index}@example.com`,
      ...(rng() < 0.4 ? { phone: `+49 30 ${String(1_000_000 + Math.floor(rng() * 8_999_999))}` } : {}),
    },
    name: `${first} ${last}`,
    createdAt: iso(createdAt),
    acquisitionChannel: channel,
    attributes: {
      birth_year: 1950 + Math.floor(rng() * 55),
      newsletter,
      loyalty_tier: weighted(rng, { bronze: 70, silver: 22, gold: 8 }),
      signup_date: iso(createdAt).slice(0, 10),
    },
    address: { line1: `${pick(rng, streets)} ${1 + Math.floor(rng() * 120)}`, city, postalCode, country },
  };
  return { upsert, createdAt, channel, newsletter };
}

/** The customer's first event, the sign-up: loaded first, so Kept gives every customer its id. */
export const customerUpsert = (options: DemoOptions, index: number): Event =>
  signUp(options, index, stream(options, index, 'life')).upsert;

/** All events of one customer, in time order, none after `end`. */
export const customerEvents = (options: DemoOptions, index: number, context = marketed): Event[] =>
  customerHistory(options, index, context).events;

/** One customer's whole story: their events and their part in the past campaigns. */
export function customerHistory(options: DemoOptions, index: number, context = marketed): CustomerHistory {
  const rng = stream(options, index, 'life');
  const R = demoRules;
  const end = options.end.getTime();
  const events: Event[] = [];
  const customer = { externalId: externalId(options, index) };
  const adder = (tag: string) => {
    let n = tag ? 0 : 1;
    return (type: string, at: number, fields: Record<string, unknown>) => {
      if (at <= end)
        events.push({ id: `demo-${options.seed}-${index}-${tag}${++n}`, type, customer, at: iso(at), ...fields });
    };
  };
  const add = adder('');
  const { upsert, createdAt, channel, newsletter } = signUp(options, index, rng);
  events.push(upsert);

  if (newsletter)
    add('consent', createdAt, { list: 'marketing', granted: true, wording: 'Yes, send me news and offers by email' });

  // Life events that end or mute the relationship, decided up front.
  const deceasedAt = rng() < R.flags.deceased ? createdAt + rng() * (end - createdAt) : Infinity;
  const movesAt = rng() < R.flags.moved ? createdAt + rng() * (end - createdAt) : Infinity;
  const mutedAt = rng() < R.flags.doNotContact ? createdAt + rng() * (end - createdAt) : Infinity;
  if (deceasedAt < Infinity)
    add('status.change', deceasedAt, { flag: 'deceased', active: true, note: 'Told by a relative' });
  if (movesAt < Infinity) {
    const [newCity, newCountry, newCode] = pick(rng, cities);
    add('status.change', movesAt, { flag: 'moved', active: true });
    if (rng() < 0.5)
      add('address.change', movesAt + 3 * day, {
        address: {
          line1: `${pick(rng, streets)} ${1 + Math.floor(rng() * 120)}`,
          city: newCity,
          postalCode: newCode,
          country: newCountry,
        },
      });
    else
      add('status.change', movesAt + 10 * day, {
        flag: 'undeliverable',
        active: true,
        note: 'Parcel returned: addressee unknown',
      });
  }
  if (mutedAt < Infinity)
    add('status.change', mutedAt, {
      flag: 'do_not_contact',
      active: true,
      note: 'Asked on the phone not to be contacted',
    });

  // Newsletters (and some opens) while subscribed and reachable; never to the universal control group.
  const mailed = newsletter && !context.universalControl;
  const newsRng = stream(options, index, 'newsletters');
  const addNews = adder('news-');
  if (mailed) newsletterEvents(newsRng, addNews, createdAt, Math.min(end, deceasedAt, mutedAt));

  const orders: { orderId: string; at: number; channel: string }[] = [];
  const members: PastMember[] = [];
  const finish = () => {
    events.push(...subscriptionEvents(options, index, events, customer));
    if (mailed && orders.length > 0) {
      const campaignRng = stream(options, index, 'campaigns');
      const addPast = adder('past-');
      const past = pastCampaignHistory(
        campaignRng,
        addPast,
        { orders: orders.map((o) => o.at), reachableUntil: Math.min(deceasedAt, mutedAt), aliveUntil: deceasedAt },
        pastCampaigns(options.end),
      );
      members.push(...past.members);
      past.orders.forEach((at, i) => {
        const orderId = `DO${options.seed}-${index}-m${i + 1}`;
        const order = { orderId, at, channel: pick(campaignRng, ['web', 'web', 'mobile'] as const) };
        addPast('order', at, { orderId, channel: order.channel, currency: 'EUR', lines: basket(campaignRng) });
        orders.push(order);
      });
    }
    orderConfirmations(stream(options, index, 'confirmations'), adder('confirm-'), orders);
    return { events: events.sort(byTime), members };
  };

  if (rng() < R.neverBuyShare) return finish();
  const ratePerDay = (gamma(rng, R.rate.shape) * R.rate.meanPerYear) / R.rate.shape / 365;
  const baseDropout = beta(rng, R.dropout.a, R.dropout.b);
  const orderChannel = (draw: Rng) =>
    draw() < 0.8
      ? channel === 'store'
        ? 'store'
        : pick(draw, ['web', 'web', 'mobile'] as const)
      : pick(draw, ['web', 'store', 'mobile', 'phone'] as const);

  let t = createdAt + between(rng, 0, 10) * day;
  for (let order = 1; t <= end && t < deceasedAt; order++) {
    const orderId = `DO${options.seed}-${index}-${order}`;
    const lines = basket(rng);
    const orderedVia = orderChannel(rng);
    add('order', t, { orderId, channel: orderedVia, currency: 'EUR', lines });
    orders.push({ orderId, at: t, channel: orderedVia });

    // What the customer lived through after this order, and how it changes their staying.
    let dropout = baseDropout;
    let mood: 'good' | 'bad' | 'neutral' = 'neutral';
    if (rng() < R.problemShare) {
      const kind = rng() < 0.6 ? 'wrong_item' : 'damaged';
      const line = lines[0];
      const at = t + between(rng, 2, 5) * day;
      add('incident', at, { kind, orderId, channel: 'web', detail: { product: line.product } });
      add('return', at + day, {
        returnId: `DR${options.seed}-${index}-${order}`,
        orderId,
        product: line.product,
        quantity: 1,
        amount: line.unitPrice,
        reasonCode: kind,
        reason: pick(rng, problemReasons[kind]),
      });
      if (rng() < R.ticketAfterProblem) {
        const ticketId = `DT${options.seed}-${index}-${order}`;
        const via = pick(rng, ['chat', 'email', 'phone'] as const);
        const good = rng() < R.goodRecoveryShare;
        add('ticket.opened', at + 0.1 * day, {
          ticketId,
          channel: via,
          category: kind,
          priority: 'normal',
          subject: kind === 'wrong_item' ? 'Wrong item received' : 'Item arrived damaged',
          orderId,
        });
        const agent = pick(rng, agents);
        if (good) {
          add('ticket.updated', at + 0.2 * day, {
            ticketId,
            status: 'pending',
            assignee: agent,
            note: 'Replacement sent with express shipping',
          });
          add('ticket.resolved', at + between(rng, 1, 3) * day, {
            ticketId,
            outcome: rng() < 0.6 ? 'replaced' : 'refunded',
          });
          if (via !== 'email')
            add('note', at + 0.2 * day, {
              body: 'Apologised and sent a replacement; customer thanked us',
              author: agent,
              channel: via,
              feeling: rng() < 0.7 ? 1 : 2,
            });
          dropout *= R.dropoutAfter.goodRecovery;
          mood = 'good';
        } else {
          add('ticket.updated', at + between(rng, 4, 9) * day, {
            ticketId,
            status: 'waiting_on_customer',
            assignee: agent,
            note: 'Asked for photos again',
          });
          add('ticket.resolved', at + between(rng, 12, 25) * day, {
            ticketId,
            outcome: rng() < 0.6 ? 'unresolved' : 'no_response',
          });
          if (via !== 'email')
            add('note', at + between(rng, 4, 9) * day, {
              body: 'Customer upset about the wait; no replacement in stock',
              author: agent,
              channel: via,
              feeling: rng() < 0.6 ? -2 : -1,
            });
          dropout *= R.dropoutAfter.unresolved;
          mood = 'bad';
        }
        if (rng() < R.csatAfterTicket) {
          add('survey.response', at + 4 * day, {
            survey: 'csat-support',
            question: 'How satisfied are you with our help?',
            score: good ? 4 + Math.floor(rng() * 2) : 1 + Math.floor(rng() * 2),
            channel: 'email',
          });
        }
      } else {
        dropout *= R.dropoutAfter.noTicket;
        mood = 'bad';
      }
    } else if (rng() < R.portalStuckShare) {
      const at = t + between(rng, 3, 8) * day;
      ['login', 'order_lookup', 'return_form'].slice(0, 1 + Math.floor(rng() * 3)).forEach((step, i) =>
        add('touchpoint', at + i * 600_000, {
          channel: 'web',
          direction: 'in',
          kind: 'portal_step',
          detail: { step, orderId },
        }),
      );
      add('incident', at + 1_800_000, {
        kind: 'portal_abandoned',
        orderId,
        channel: 'web',
        detail: { note: 'left the support portal without finishing' },
      });
      dropout *= R.dropoutAfter.portalStuck;
      mood = 'bad';
    } else if (rng() < R.lateDeliveryShare) {
      add('incident', t + between(rng, 5, 10) * day, { kind: 'late_delivery', orderId, channel: 'web' });
      dropout *= R.dropoutAfter.late;
    }
    if (rng() < R.npsAfterOrder) {
      // Without a notable experience the answer tells how attached the customer is: the likelier to go silent, the lower.
      const attached = Math.round(
        R.npsAttachment.top - R.npsAttachment.perDropout * baseDropout + R.npsAttachment.noise * normal(rng),
      );
      const score =
        mood === 'bad'
          ? Math.floor(rng() * 5)
          : mood === 'good'
            ? 8 + Math.floor(rng() * 3)
            : Math.max(0, Math.min(10, attached));
      add('survey.response', t + between(rng, 7, 14) * day, {
        survey: 'nps',
        question: 'How likely are you to recommend us to a friend?',
        score,
        channel: 'email',
        ...(rng() < 0.4 ? { answer: pick(rng, score >= 7 ? goodWords : badWords) } : {}),
      });
    }
    if (rng() < Math.min(0.95, dropout)) break;
    const next = t + (-Math.log(1 - rng()) / ratePerDay) * R.gapAfter[mood] * day + day;
    // The newsletter works: while it arrives, a customer who stays buys a little more often (one
    // more order between two of their own, now and then); who goes silent stays silent.
    if (mailed && t < mutedAt && newsRng() < R.newsletterRate - 1) {
      const at = t + newsRng() * (next - t);
      const nudged = { orderId: `DO${options.seed}-${index}-n${order}`, at, channel: orderChannel(newsRng) };
      if (at < deceasedAt && at <= end) {
        addNews('order', at, {
          orderId: nudged.orderId,
          channel: nudged.channel,
          currency: 'EUR',
          lines: basket(newsRng),
        });
        orders.push(nudged);
      }
    }
    t = next;
  }
  return finish();
}

/**
 * Some buyers take the monthly refresh box (a subscription) from a few days after their first
 * order. Each renews with its own chance of cancelling (beta-distributed across subscribers, so the
 * retention curve flattens as the restless leave), and a delivery problem before a renewal triples
 * that chance. Drawn from a generator of its own, so the rest of the store is as without it.
 */
function subscriptionEvents(
  options: DemoOptions,
  index: number,
  events: Event[],
  customer: { externalId: string },
): Event[] {
  const R = demoRules.subscriptions;
  const rng = stream(options, index, 'subscriptions');
  const firstOrder = events.find((e) => e.type === 'order');
  if (!firstOrder || rng() >= R.share) return [];
  const end = options.end.getTime();
  const problems = events.filter((e) => e.type === 'incident').map((e) => Date.parse(e.at!));
  const plus = rng() < R.plusShare;
  const started = Date.parse(firstOrder.at!) + (2 + Math.floor(rng() * 10)) * day;
  const theta = beta(rng, R.alpha, R.beta);
  const subscription = { customer, subscriptionId: `box-${options.seed}-${index}` };
  const out: Event[] = [];
  const add = (change: string, at: number, fields: Record<string, unknown> = {}) => {
    if (at <= end)
      out.push({
        id: `demo-${options.seed}-${index}-sub-${out.length + 1}`,
        type: 'subscription',
        ...subscription,
        change,
        at: iso(at),
        ...fields,
      });
  };
  add('started', started, {
    plan: plus ? 'Refresh box plus' : 'Refresh box',
    price: plus ? '24.90' : '12.90',
    currency: 'EUR',
    period: 'month',
  });
  for (let t = 1; ; t++) {
    const renewal = new Date(started);
    renewal.setUTCMonth(renewal.getUTCMonth() + t);
    if (renewal.getTime() > end) break;
    const troubled = problems.some((at) => at < renewal.getTime() && at > renewal.getTime() - 60 * day);
    if (rng() < Math.min(0.95, theta * (troubled ? R.problemFactor : 1))) {
      add('cancelled', renewal.getTime() - (1 + Math.floor(rng() * 5)) * day, {
        reasonCode: troubled ? 'delivery_problems' : pick(rng, ['too_expensive', 'not_needed', 'too_many_towels']),
      });
      break;
    }
    add('renewed', renewal.getTime());
  }
  return out;
}

// The upsert stays first; the rest in time order (stable for equal times).
const byTime = (a: Event, b: Event) =>
  a.type === 'customer.upsert' ? -1 : b.type === 'customer.upsert' ? 1 : a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : 0;

/** Every customer's events; `universalControl` tells who of them (by number) is in the universal control group. */
export function* demoEvents(
  options: DemoOptions,
  universalControl: (index: number) => boolean = () => false,
): Generator<Event[]> {
  for (let index = 1; index <= options.customers; index++)
    yield customerEvents(options, index, { universalControl: universalControl(index) });
}

/**
 * Generates the demo store and sends it through the event ingest, as an integration would. Two
 * passes: first every customer's sign-up, so each has Kept's id and with it their place in the
 * universal control group (held out of the newsletter and of every campaign); then the rest of each
 * story, knowing it. Last, the past campaigns are recorded with their holdouts.
 */
export async function loadDemo(
  deps: Deps,
  options: DemoOptions & { onProgress?: ProgressReporter },
): Promise<{ customers: number; events: number; campaigns: number }> {
  const share = deps.config.programme.universalControl;
  let batch: Event[] = [];
  let events = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await ingestEvents(deps, batch, { source: 'demo' });
    const bad = result.results.find((r) => r.status === 'rejected');
    if (bad) throw new Error(`demo event ${bad.id} was rejected: ${JSON.stringify(bad.errors)}`);
    events += batch.length;
    batch = [];
  };
  for (let index = 1; index <= options.customers; index++) {
    batch.push(customerUpsert(options, index));
    if (batch.length >= 1500) await flush();
  }
  await flush();
  const ids = await customerIdsByExternalId(deps.db, externalPrefix(options));
  const members: (PastMember & { customer: string })[] = [];
  for (let index = 1; index <= options.customers; index++) {
    const customer = externalId(options, index);
    const id = ids.get(customer);
    const history = customerHistory(options, index, {
      universalControl: id !== undefined && inUniversalControl(id, share),
    });
    batch.push(...history.events.filter((e) => e.type !== 'customer.upsert'));
    members.push(...history.members.map((m) => ({ ...m, customer })));
    if (batch.length >= 1500) {
      await flush();
      options.onProgress?.(index, options.customers);
    }
  }
  await flush();
  options.onProgress?.(options.customers, options.customers);
  const campaigns = await recordPastCampaigns(deps, pastCampaigns(options.end), members);
  await refreshStatistics(deps.db);
  return { customers: options.customers, events, campaigns };
}
