import { createRoute, z } from '@hono/zod-openapi';
import { anyone, staff } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { dayIn } from '../shared/time.ts';
import { findSpikes, type GlitchSeries } from './glitch.ts';
import { missedRecoveries, problemsByWeek, recoveryOutcomes } from './support.service.ts';
import { whole } from '../shared/input.ts';
import { glitchesSchema, missedRecoveriesSchema, recoveryOutcomesSchema } from './support.ts';

const day = 86_400_000;

/** Monday of the week of `at` in the time zone, as YYYY-MM-DD. */
function mondayOf(at: Date, timeZone: string): string {
  const date = new Date(`${dayIn(timeZone, at)}T00:00:00Z`);
  return new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * day).toISOString().slice(0, 10);
}

export function supportRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/recovery',
      middleware: staff,
      tags: ['support'],
      summary:
        'Missed recoveries: customers whose latest bad experience is more than `days` old with nobody following up since',
      request: {
        query: z.object({
          days: whole(0, 60).default(3),
          limit: whole(1, 500).default(100),
          offset: whole(0, 10_000).default(0),
        }),
      },
      responses: {
        200: {
          description: 'Most value at stake first',
          content: {
            'application/json': {
              schema: missedRecoveriesSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const rows = await missedRecoveries(deps.db, { now: deps.clock.now(), ...c.req.valid('query') });
      return c.json(
        {
          customers: rows.map((r) => ({
            customerId: r.customer_id,
            name: r.name,
            email: r.email,
            stage: r.stage,
            source: r.source,
            kind: r.kind,
            what: r.what,
            orderId: r.order_id,
            at: new Date(r.at).toISOString(),
            waitingDays: r.waiting_days,
            valueAtStake: r.value_at_stake,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/recovery/outcomes',
      middleware: anyone,
      tags: ['support'],
      summary:
        'Closing the loop, to its outcome: bad experiences followed up within `days` or not, and how many of those customers bought again',
      request: { query: z.object({ days: whole(0, 60).default(3), window: whole(14, 365).default(90) }) },
      responses: {
        200: {
          description: 'Followed up and not',
          content: {
            'application/json': {
              schema: recoveryOutcomesSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { days, window } = c.req.valid('query');
      const rows = await recoveryOutcomes(deps.db, { now: deps.clock.now(), days, windowDays: window });
      return c.json(
        {
          days,
          window,
          outcomes: rows.map((r) => ({
            followedUp: r.followed_up,
            experiences: r.experiences,
            bought: r.bought,
            boughtShare: r.experiences ? Number((r.bought / r.experiences).toFixed(3)) : 0,
            medianHoursToFollowUp: r.median_hours === null ? null : Number(r.median_hours.toFixed(1)),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/glitches',
      middleware: anyone,
      tags: ['support'],
      summary:
        'Problems by week: incidents, tickets, returns, support-portal abandonments by step and low website feedback, by category and channel, with spikes flagged',
      request: { query: z.object({ weeks: whole(4, 104).default(26) }) },
      responses: {
        200: {
          description: 'Weekly counts, oldest week first',
          content: {
            'application/json': {
              schema: glitchesSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { weeks: count } = c.req.valid('query');
      const tz = deps.config.timeZone;
      const last = mondayOf(deps.clock.now(), tz);
      // Eight more weeks than shown, so the first weeks shown have a baseline too.
      const weeks = Array.from({ length: count + 8 }, (_, i) =>
        new Date(Date.parse(last) - (count + 7 - i) * 7 * day).toISOString().slice(0, 10),
      );
      const rows = await problemsByWeek(deps.db, { since: new Date(Date.parse(weeks[0]) - day), timeZone: tz });
      const index = new Map(weeks.map((w, i) => [w, i]));
      const series = new Map<string, GlitchSeries>();
      const channels = new Map<string, number[]>();
      for (const r of rows) {
        const w = index.get(r.week);
        if (w === undefined) continue;
        const key = `${r.source}|${r.category}`;
        const s = series.get(key) ?? {
          source: r.source,
          category: r.category,
          counts: new Array<number>(weeks.length).fill(0),
        };
        s.counts[w] += r.problems;
        series.set(key, s);
        const channel = channels.get(r.channel ?? 'unknown') ?? new Array<number>(weeks.length).fill(0);
        channel[w] += r.problems;
        channels.set(r.channel ?? 'unknown', channel);
      }
      const all = [...series.values()];
      const spikes = findSpikes(weeks, all).filter((s) => s.week >= weeks[8]);
      const shown = (counts: number[]) => counts.slice(8);
      return c.json(
        {
          weeks: weeks.slice(8),
          series: all
            .map((s) => ({ ...s, counts: shown(s.counts), total: shown(s.counts).reduce((a, b) => a + b, 0) }))
            .sort((a, b) => b.total - a.total),
          channels: [...channels]
            .map(([channel, counts]) => ({ channel, counts: shown(counts) }))
            .sort((a, b) => a.channel.localeCompare(b.channel)),
          spikes,
        },
        200,
      );
    },
  );
  return app;
}
