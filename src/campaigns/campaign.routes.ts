import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import { stringify } from 'csv-stringify/sync';
import { auditBy } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json, pathParam } from '../shared/http.ts';
import { formulaSafe, phoneCell } from '../shared/spreadsheet.ts';
import {
  campaignBody,
  campaignListSchema,
  campaignReportSchema,
  campaignSchema,
  campaignWithCountsSchema,
  capturedMailSchema,
  customerPaceSchema,
  externalCampaignBody,
  renderedMailSchema,
  startPreviewSchema,
  templateSchema,
  templateSummarySchema,
} from './campaign.ts';
import {
  capturedMail,
  createCampaign,
  customerPace,
  findCampaign,
  findTemplate,
  listCampaigns,
  listedMembers,
  listTemplates,
  memberCounts,
  previewTemplate,
  recordExternalCampaign,
  recordMailFeedback,
  saveTemplate,
  setCampaignStatus,
  previewStart,
  recordListReached,
  startCampaign,
} from './campaign.service.ts';
import { campaignReport } from './report.service.ts';
import { countsWithheld } from '../segments/segment.service.ts';
import { templateBody } from './template.ts';
import { id, instant, whole } from '../shared/input.ts';

const idParam = z.object({ id: id });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});
export function campaignRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/templates',
      middleware: anyone,
      tags: ['campaigns'],
      summary: 'Email templates',
      responses: {
        200: json(z.object({ templates: z.array(templateSummarySchema) }), 'By name'),
      },
    }),
    async (c) => c.json({ templates: await listTemplates(deps) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Save a template (admin or marketer); refused when it does not parse',
      request: body(templateBody),
      responses: { 201: json(templateSchema, 'Saved') },
    }),
    async (c) => c.json(await saveTemplate(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{id}',
      middleware: anyone,
      tags: ['campaigns'],
      summary: 'A template',
      request: { params: idParam },
      responses: { 200: json(templateSchema, 'The template') },
    }),
    async (c) => c.json(await findTemplate(deps, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/templates/{id}',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Change a template (admin or marketer)',
      request: { params: idParam, ...body(templateBody) },
      responses: { 200: json(templateSchema, 'Saved') },
    }),
    async (c) =>
      c.json(await saveTemplate(deps, c.get('principal'), c.req.valid('json'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates/preview',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Render a template as one customer would get it: subject, HTML and plain text',
      request: body(
        z.object({
          subject: z.string().max(500),
          body: z.string().max(200_000),
          customerId: z.number().int().positive(),
          arm: z.string().max(40).optional(),
        }),
      ),
      responses: { 200: json(renderedMailSchema, 'The mail') },
    }),
    async (c) => {
      const { customerId, arm, ...t } = c.req.valid('json');
      return c.json(await previewTemplate(deps, t, customerId, arm), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns',
      middleware: anyone,
      tags: ['campaigns'],
      summary: 'Campaigns, newest first, with their members by send status',
      responses: {
        200: json(campaignListSchema, 'Newest first'),
      },
    }),
    async (c) => {
      const campaigns = await listCampaigns(deps);
      // An analyst gets no member count of a campaign whose segment filters on a personal field (docs/security.md).
      const withheld = await countsWithheld(
        deps,
        c.get('principal'),
        campaigns.map((x) => x.segmentId),
      );
      return c.json(
        {
          campaigns: campaigns.map((x) =>
            x.segmentId !== null && withheld.has(x.segmentId) ? { ...x, members: null, counts: {} } : x,
          ),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Create a campaign (draft, or scheduled with scheduledAt)',
      request: body(campaignBody),
      responses: { 201: json(campaignSchema, 'Created') },
    }),
    async (c) => c.json(await createCampaign(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/external',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Record a campaign run elsewhere: members, arm or control, send time; measured like the others',
      request: body(externalCampaignBody),
      responses: { 201: json(z.object({ id: z.number() }), 'Recorded') },
    }),
    async (c) => c.json(await recordExternalCampaign(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns/{id}',
      middleware: anyone,
      tags: ['campaigns'],
      summary: 'A campaign with its members by send status',
      request: { params: idParam },
      responses: { 200: json(campaignWithCountsSchema, 'The campaign') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const campaign = await findCampaign(deps, id);
      if (
        campaign.segmentId !== null &&
        (await countsWithheld(deps, c.get('principal'), [campaign.segmentId])).has(campaign.segmentId)
      ) {
        return c.json({ campaign: { ...campaign, members: null }, counts: {} }, 200);
      }
      return c.json({ campaign, counts: await memberCounts(deps.db, id) }, 200);
    },
  );

  const startOptions = z.object({
    overrideHoldouts: z.boolean().default(false).openapi({
      description:
        'Include customers held out of another programme in its measurement window (their holdout is contaminated; both reports count it)',
    }),
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns/{id}/preview',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        'What starting now would do: audience, who is left out and why, holdout and arms with a sample mail each, who cannot be reached, overlap with running programmes',
      request: {
        params: idParam,
        query: z.object({ overrideHoldouts: z.enum(['true', 'false']).default('false') }),
      },
      responses: { 200: json(startPreviewSchema, 'The preview') },
    }),
    async (c) =>
      c.json(
        await previewStart(deps, c.req.valid('param').id, {
          overrideHoldouts: c.req.valid('query').overrideHoldouts === 'true',
        }),
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/{id}/start',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        "Start now: leave out the universal control group, other programmes' holdouts and open problems, draw the holdout and the arms, then send (email) or list the treated (other channels)",
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: startOptions } }, required: false },
      },
      responses: { 200: json(campaignSchema, 'The campaign now') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const options = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : undefined;
      const campaign = await startCampaign(deps, id, { overrideHoldouts: options?.overrideHoldouts ?? false });
      if (campaign.overrideHoldouts)
        await auditBy(deps, c, 'campaign.override_holdouts', `campaign #${id} ${campaign.name}`, {
          members: campaign.members,
        });
      return c.json(campaign, 200);
    },
  );

  for (const [action, to, summary] of [
    ['pause', 'paused', 'Pause sending; nothing queued goes out until resumed'],
    ['resume', 'sending', 'Resume a paused campaign'],
    ['cancel', 'cancelled', 'Cancel; what is queued is not sent'],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/campaigns/{id}/${action}`,
        middleware: marketing,
        tags: ['campaigns'],
        summary,
        request: { params: idParam },
        responses: { 200: json(campaignSchema, 'The campaign now') },
      }),
      async (c) => c.json(await setCampaignStatus(deps, c.get('principal'), c.req.valid('param').id, to), 200),
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/{id}/list/done',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        'The list (calls, store, mailing) was worked through elsewhere: members flagged since the list was made are left out (suppressed with the flag as reason); each other treated member gets a touchpoint and counts against the frequency cap',
      request: { params: idParam },
      responses: {
        200: json(
          z.object({
            reached: z.number(),
            leftOut: z.record(z.string(), z.number()).openapi({
              description: 'Members left out now because a flag set since the list was made stops them, by reason',
            }),
          }),
          'How many members were newly marked reached, and how many left out',
        ),
      },
    }),
    async (c) => c.json(await recordListReached(deps, c.req.valid('param').id, 'marked done'), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns/{id}/report',
      middleware: anyone,
      tags: ['campaigns'],
      summary:
        'Each arm against the holdout: buying, revenue per customer, still active at 30 and 90 days, unsubscribes; lift with 95 % intervals, p-values, cumulative lift by day',
      request: { params: idParam, query: z.object({ days: whole(1, 365).default(30) }) },
      responses: { 200: json(campaignReportSchema, 'The report') },
    }),
    async (c) => c.json(await campaignReport(deps, c.req.valid('param').id, c.req.valid('query').days), 200),
  );

  app.get('/campaigns/:id/list.csv', marketing, async (c) => {
    const found = await findCampaign(deps, pathParam(c, 'id', id));
    // Exporting the list is when its customers are reached, as far as Kept can know; who was
    // flagged since the list was made is left out first, and the count says so.
    const { leftOut } =
      found.channel !== 'email'
        ? await recordListReached(deps, found.id, 'exported')
        : { leftOut: {} as Record<string, number> };
    const rows = await deps.database.run('export', c.req.raw.signal, (db) => listedMembers(db, found.id));
    const leftOutCount = Object.values(leftOut).reduce((s, n) => s + n, 0);
    await auditBy(deps, c, 'export.call_list', `campaign #${found.id} ${found.name}`, {
      rows: rows.length,
      channel: found.channel,
      leftOut,
    });
    c.header('X-Kept-Rows', String(rows.length));
    c.header('X-Kept-Left-Out', String(leftOutCount));
    const header = [
      'customer',
      'name',
      'email',
      'phone',
      'line1',
      'line2',
      'postal_code',
      'city',
      'region',
      'country',
      'arm',
    ];
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="campaign-${found.id}-${found.channel}.csv"`);
    // Phones in E.164 without the formula quote (a dialer takes them as they are; see phoneCell).
    const cells = (r: (typeof rows)[number]) =>
      Object.entries(r).map(([key, value]) =>
        key === 'phone' ? phoneCell(value, r.country ?? deps.config.defaultCountry) : formulaSafe(value),
      );
    return c.body(stringify([header, ...rows.map(cells)]));
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/mail/feedback',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        'Bounces and complaints from the mail server or provider: a hard bounce or a complaint stops all mail to the address; a complaint also withdraws consent',
      request: body(
        z.object({
          events: z
            .array(
              z.object({
                kind: z.enum(['hard_bounce', 'soft_bounce', 'complaint']),
                email: z.string().trim().toLowerCase().max(320),
                messageId: z.string().max(500).optional(),
                at: instant.optional(),
              }),
            )
            .min(1)
            .max(1000),
        }),
      ),
      responses: { 200: json(z.object({ recorded: z.number(), matched: z.number() }), 'Recorded') },
    }),
    async (c) => c.json(await recordMailFeedback(deps, c.req.valid('json').events), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/pace',
      middleware: anyone,
      tags: ['campaigns'],
      summary:
        'How often Kept reaches the customer: outgoing touches per channel per week (last 12 weeks) and the frequency cap now',
      request: { params: idParam },
      responses: {
        200: json(customerPaceSchema, 'Touches by week'),
      },
    }),
    async (c) => {
      const { frequencyCap: cap, frequencyDays: days } = deps.config.mail;
      const pace = await customerPace(deps.db, c.req.valid('param').id, {
        now: deps.clock.now(),
        timeZone: deps.config.timeZone,
        days,
      });
      return c.json({ weeks: pace.weeks, marketing: { sent: pace.sent, cap, days, capped: pace.sent >= cap } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/mail/captured',
      middleware: marketing,
      tags: ['campaigns'],
      summary: 'Mail captured instead of sent (no SMTP server configured), newest first',
      request: { query: z.object({ limit: whole(1, 200).default(50), to: z.string().max(320).optional() }) },
      responses: { 200: json(capturedMailSchema, 'Newest first') },
    }),
    async (c) => {
      const { limit, to } = c.req.valid('query');
      const messages = await capturedMail(deps.db, { limit, to });
      return c.json({ smtp: deps.mailer.kind === 'smtp', messages }, 200);
    },
  );

  return app;
}
