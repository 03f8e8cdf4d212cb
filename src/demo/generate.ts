// The demo store: two years of a small homeware shop, generated customer by customer from a seed,
// with cause and effect built in (docs/demo-data.md). Pure: the same seed and end give the same events.
import { refreshStatistics } from './demo.repository.ts';
import type { Deps } from '../deps.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { beta, gamma, normal, random, type Rng } from '../shared/random.ts';

export interface DemoOptions {
  customers: number;
  seed: number;
  end: Date;
}
type Event = Record<string, unknown> & { id: string; type: string; at?: string };

const day = 86_400_000;
/** The planted rules; docs/demo-data.md describes each one with these numbers. */
export const demoRules = {
  years: 2,
  neverBuyShare: 0.15,
  /** Purchase rate ~ Gamma with this shape and a mean of `meanPerYear` purchases a year: widely spread. */
  rate: { shape: 0.9, meanPerYear: 4.0 },
  /** Dropout chance after each purchase ~ Beta(a, b): mean 0.25. */
  dropout: { a: 1.0, b: 3.0 },
  problemShare: 0.07,
  ticketAfterProblem: 0.8,
  goodRecoveryShare: 0.6,
  portalStuckShare: 0.04,
  lateDeliveryShare: 0.06,
  /** Multipliers on the dropout chance after the experience (capped at 0.95). */
  dropoutAfter: { unresolved: 3.0, noTicket: 2.0, portalStuck: 2.0, late: 1.3, goodRecovery: 0.6 },
  /** Multiplier on the time to the next order of those who stay, by how the experience felt. */
  gapAfter: { bad: 1.6, good: 0.8, neutral: 1 },
  npsAfterOrder: 0.15,
  /** NPS without a notable experience: round(top − perDropout × dropout chance + noise × N(0, 1)), within 0..10. */
  npsAttachment: { top: 10.5, perDropout: 10, noise: 1.5 },
  csatAfterTicket: 0.5,
  flags: { deceased: 0.01, moved: 0.03, doNotContact: 0.02 },
  newsletterShare: 0.6,
  newsletterEveryDays: 42,
  openShare: 0.3,
  /**
   * Buyers who take the monthly refresh box (a fifth of them the plus box); each renewal's chance of
   * cancelling ~ Beta(alpha, beta), mean 0.08; tripled by a delivery problem in the 60 days before.
   */
  subscriptions: { share: 0.15, plusShare: 0.2, alpha: 0.8, beta: 9.2, problemFactor: 3 },
} as const;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
function weighted<T extends string>(rng: Rng, weights: Record<T, number>): T {
  let u = rng() * Object.values<number>(weights).reduce((a, b) => a + b, 0);
  for (const [key, weight] of Object.entries<number>(weights)) if ((u -= weight) < 0) return key as T;
  return Object.keys(weights)[0] as T;
}
const between = (rng: Rng, low: number, high: number) => low + rng() * (high - low);

const firstNames = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Emma',
  'Farah',
  'Giulia',
  'Hiro',
  'Ines',
  'Jonas',
  'Kofi',
  'Lena',
  'Mateo',
  'Nora',
  'Oskar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoë',
  'Amara',
  'Bruno',
  'Clara',
  'Diego',
  'Elif',
  'Finn',
  'Greta',
  'Hamza',
  'Ida',
  'Jakub',
  'Keiko',
  'Liam',
  'Maja',
  'Nikolai',
];
const lastNames = [
  'Andersen',
  'Becker',
  'Costa',
  'Dubois',
  'Eriksson',
  'Fischer',
  'García',
  'Hansen',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'López',
  'Müller',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Usman',
  'Van Dijk',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zimmermann',
  'Almeida',
  'Brennan',
  'Chen',
  'Diaz',
  'Evans',
  'Fontaine',
  'Gallo',
  'Horvat',
  'Iqbal',
  'Jovanović',
  'Kaur',
  'Lindqvist',
  'Moreau',
  'Novak',
];
const cities = [
  ['Berlin', 'DE', '10115'],
  ['Hamburg', 'DE', '20095'],
  ['Vienna', 'AT', '1010'],
  ['Amsterdam', 'NL', '1012'],
  ['Lyon', 'FR', '69001'],
  ['Milan', 'IT', '20121'],
  ['Copenhagen', 'DK', '1050'],
  ['Zurich', 'CH', '8001'],
] as const;
const streets = [
  'Lindenstraße',
  'Hauptstraße',
  'Rue de la Paix',
  'Via Roma',
  'Kastanienallee',
  'Prinsengracht',
  'Bahnhofstrasse',
  'Nørregade',
];
/** sku, name, category, price */
const catalogue: readonly (readonly [string, string, string, number])[] = [
  ['TW-BLU', 'Bath towel, ocean blue', 'towels', 24],
  ['TW-WHT', 'Bath towel, white', 'towels', 22],
  ['TW-GRY', 'Hand towel, grey', 'towels', 12],
  ['TW-SET', 'Towel set of six', 'towels', 69],
  ['BD-LIN', 'Linen duvet cover', 'bedding', 119],
  ['BD-PIL', 'Pillowcase pair', 'bedding', 29],
  ['BD-SHT', 'Fitted sheet', 'bedding', 39],
  ['BD-THR', 'Wool throw', 'bedding', 89],
  ['KT-MUG', 'Stoneware mug', 'kitchen', 14],
  ['KT-BWL', 'Serving bowl', 'kitchen', 34],
  ['KT-KNF', 'Chef knife', 'kitchen', 79],
  ['KT-TEA', 'Teapot', 'kitchen', 45],
  ['KT-CLO', 'Tea towels, 3', 'kitchen', 16],
  ['CN-FIG', 'Candle, fig', 'candles', 28],
  ['CN-CED', 'Candle, cedar', 'candles', 28],
  ['CN-TRV', 'Travel candle', 'candles', 12],
  ['CN-SET', 'Candle trio', 'candles', 65],
  ['RG-SML', 'Cotton rug, small', 'rugs', 59],
  ['RG-LRG', 'Jute rug, large', 'rugs', 149],
  ['RG-BTH', 'Bath mat', 'rugs', 25],
  ['DC-VAS', 'Glass vase', 'decor', 39],
  ['DC-FRM', 'Oak frame', 'decor', 19],
  ['DC-BSK', 'Seagrass basket', 'decor', 32],
  ['DC-CSH', 'Cushion cover', 'decor', 27],
  ['BT-SOP', 'Olive soap', 'bath', 7],
  ['BT-BRS', 'Bath brush', 'bath', 15],
  ['BT-ROB', 'Waffle robe', 'bath', 79],
  ['BT-DSP', 'Soap dispenser', 'bath', 18],
  ['GF-CRD', 'Gift card', 'gifts', 50],
  ['GF-BOX', 'Gift box', 'gifts', 9],
];
const problemReasons = {
  wrong_item: [
    'towel came in the wrong shade of blue',
    'received a different size',
    'got mugs instead of bowls',
    'wrong colour, ordered grey',
  ],
  damaged: ['vase arrived broken', 'candle glass cracked', 'rug stained on arrival', 'box crushed, teapot chipped'],
} as const;
const goodWords = ['Fast replacement, thank you!', 'Lovely quality', 'Will order again', 'Great service from Sam'];
const badWords = [
  'Nobody answered my emails',
  'Still waiting for my refund',
  'The return portal kept failing',
  'Disappointed',
];
const agents = ['sam', 'noor', 'tomas', 'lea'];

const iso = (ms: number) => new Date(ms).toISOString();
const money = (value: number) => value.toFixed(2);

/** All events of one customer, in time order, none after `end`. */
export function customerEvents(options: DemoOptions, index: number): Event[] {
  const rng = random((options.seed * 2_654_435_761 + index * 40_503) >>> 0);
  const R = demoRules;
  const end = options.end.getTime();
  const start = end - R.years * 365 * day;
  const events: Event[] = [];
  let n = 0;
  const customer = { externalId: `D${options.seed}-${index}` };
  const add = (type: string, at: number, fields: Record<string, unknown>) => {
    if (at <= end) events.push({ id: `demo-${options.seed}-${index}-${++n}`, type, customer, at: iso(at), ...fields });
  };

  // Acquisition grows over the two years (density rising with time).
  const createdAt = Math.floor(start + Math.pow(rng(), 1 / 1.6) * (end - start - day));
  const first = pick(rng, firstNames);
  const last = pick(rng, lastNames);
  const channel = weighted(rng, { web: 35, social: 20, store: 20, email: 10, display: 10, direct_mail: 5 });
  const [city, country, postalCode] = pick(rng, cities);
  const newsletter = rng() < R.newsletterShare;
  const ascii = (s: string) => s.normalize('NFKD').replace(/[^\w]/g, '').toLowerCase();
  events.push({
    id: `demo-${options.seed}-${index}-${++n}`,
    type: 'customer.upsert',
    at: iso(createdAt),
    customer: {
      ...customer,
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
  });

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

  // Newsletters (and some opens and visits) while subscribed and reachable.
  if (newsletter) {
    for (
      let t = createdAt + between(rng, 1, R.newsletterEveryDays) * day;
      t < Math.min(end, deceasedAt, mutedAt);
      t += R.newsletterEveryDays * day
    ) {
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

  if (rng() < R.neverBuyShare) return events.sort(byTime);
  const ratePerDay = (gamma(rng, R.rate.shape) * R.rate.meanPerYear) / R.rate.shape / 365;
  const baseDropout = beta(rng, R.dropout.a, R.dropout.b);
  const orderChannel = () =>
    rng() < 0.8
      ? channel === 'store'
        ? 'store'
        : pick(rng, ['web', 'web', 'mobile'] as const)
      : pick(rng, ['web', 'store', 'mobile', 'phone'] as const);

  let t = createdAt + between(rng, 0, 10) * day;
  for (let order = 1; t <= end && t < deceasedAt; order++) {
    const orderId = `DO${options.seed}-${index}-${order}`;
    const lines = Array.from({ length: 1 + Math.floor(rng() * rng() * 4) }, () => {
      const [, name, category, price] = pick(rng, catalogue);
      return { product: name, category, quantity: rng() < 0.85 ? 1 : 2, unitPrice: money(price) };
    });
    add('order', t, { orderId, channel: orderChannel(), currency: 'EUR', lines });

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
    t += (-Math.log(1 - rng()) / ratePerDay) * R.gapAfter[mood] * day + day;
  }
  events.push(...subscriptionEvents(options, index, events, customer));
  return events.sort(byTime);
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
  const rng = random((options.seed * 2_246_822_519 + index * 3_266_489_917) >>> 0);
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

export function* demoEvents(options: DemoOptions): Generator<Event[]> {
  for (let index = 1; index <= options.customers; index++) yield customerEvents(options, index);
}

/** Generates the demo store and sends it through the event ingest, as an integration would. */
export async function loadDemo(
  deps: Deps,
  options: DemoOptions & { onProgress?: ProgressReporter },
): Promise<{ customers: number; events: number }> {
  let batch: Event[] = [];
  let events = 0;
  let done = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await ingestEvents(deps, batch, { source: 'demo' });
    const bad = result.results.find((r) => r.status === 'rejected');
    if (bad) throw new Error(`demo event ${bad.id} was rejected: ${JSON.stringify(bad.errors)}`);
    events += batch.length;
    batch = [];
  };
  for (const customerBatch of demoEvents(options)) {
    batch.push(...customerBatch);
    done++;
    if (batch.length >= 1500) {
      await flush();
      options.onProgress?.(done, options.customers);
    }
  }
  await flush();
  options.onProgress?.(done, options.customers);
  await refreshStatistics(deps.db);
  return { customers: options.customers, events };
}
