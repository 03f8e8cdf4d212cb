import { z } from '@hono/zod-openapi';
import { instant, isCalendarDate } from '../shared/input.ts';

export const campaignKinds = ['newsletter', 'offer', 'win_back', 'survey', 'announcement'] as const;
/** email is sent from here; the others produce a list (call list, store list, mailing file) with suppression applied. */
export const campaignChannels = ['email', 'phone', 'store', 'direct_mail'] as const;
export type CampaignChannel = (typeof campaignChannels)[number];
export type CampaignKind = (typeof campaignKinds)[number];
export const campaignStatuses = ['draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled', 'external'] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];
/** A member's row in the send ledger. */
export type MemberStatus =
  | 'holdout'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'unknown'
  | 'suppressed'
  | 'failed'
  | 'listed'
  | 'external';
export const controlArm = 'control';

/** Gmail's bulk sender thresholds: pause sending at 0.1 % complaints, refuse to start at 0.3 %. */
export const complaintPauseRate = 0.001;
export const complaintRefuseRate = 0.003;

const arm = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .regex(/^[\w .-]+$/, 'letters, digits, spaces, . and -')
    .refine((n) => n.toLowerCase() !== controlArm, 'control is the holdout'),
  templateId: z.number().int().positive().nullable().default(null),
  share: z.number().positive().max(1).default(1).openapi({ description: 'Relative weight among the treated arms' }),
});

export const campaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(campaignKinds),
    channel: z.enum(campaignChannels).default('email'),
    segmentId: z.number().int().positive(),
    arms: z
      .array(arm)
      .min(1)
      .max(6)
      .refine((arms) => new Set(arms.map((a) => a.name.toLowerCase())).size === arms.length, 'arm names must differ'),
    holdoutShare: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.1)
      .openapi({ description: 'Share of the segment kept as a random holdout, drawn before anything is sent' }),
    consentList: z.string().trim().min(1).max(100).default('marketing'),
    scheduledAt: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/, 'YYYY-MM-DDTHH:mm')
      .refine((at) => isCalendarDate(at.slice(0, 10)), 'not a calendar day')
      .optional()
      .openapi({ description: 'Wall-clock time in timeZone; without it the campaign starts when told to' }),
    timeZone: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: 'IANA zone of scheduledAt; default the business time zone' }),
    repeatEvery: z.enum(['week', 'month']).optional().openapi({
      description:
        'Repeat weekly or monthly at the same wall-clock time: each start schedules the next occurrence, a campaign of its own with a fresh holdout',
    }),
  })
  .openapi('CampaignBody');

export const externalCampaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(campaignKinds),
    channel: z.enum(campaignChannels).default('email'),
    consentList: z.string().trim().min(1).max(100).default('marketing'),
    members: z
      .array(
        z.object({
          customer: z
            .object({ externalId: z.string().max(200).optional(), email: z.string().max(320).optional() })
            .refine((c) => c.externalId || c.email, 'externalId or email'),
          arm: z
            .string()
            .trim()
            .min(1)
            .max(40)
            .openapi({ description: '"control" for the holdout, otherwise the treatment' }),
          sentAt: instant,
        }),
      )
      .min(1)
      .max(10_000),
  })
  .openapi('ExternalCampaign');

// --- what the API answers

export const campaignSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    kind: z.enum(campaignKinds),
    channel: z.enum(campaignChannels),
    segmentId: z.number().nullable(),
    arms: z.array(z.object({ name: z.string(), templateId: z.number().nullable(), share: z.number() })),
    holdoutShare: z.number(),
    consentList: z.string(),
    scheduledAt: z.string().nullable(),
    timeZone: z.string(),
    status: z.enum(campaignStatuses),
    statusReason: z.string().nullable(),
    external: z.boolean(),
    createdBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    members: z.number().nullable(),
    /** Left out at start, by reason: the universal control group, another programme's holdout, an open problem. */
    exclusions: z.record(z.string(), z.number()).nullable(),
    overrideHoldouts: z.boolean(),
    repeatEvery: z.enum(['week', 'month']).nullable(),
    seriesId: z.number().nullable(),
  })
  .openapi('Campaign');
export type Campaign = z.infer<typeof campaignSchema>;
export const renderedMailSchema = z.object({ subject: z.string(), html: z.string(), text: z.string() });
export type RenderedMail = z.infer<typeof renderedMailSchema>;

/** What starting a campaign now would do (GET /campaigns/{id}/preview), shown before the confirmation. */
export const startPreviewSchema = z
  .object({
    campaign: campaignSchema,
    /** The segment's members now. */
    audience: z.number(),
    /** Left out by the programme, by reason; `overridden` when they will be included anyway. */
    leftOut: z.array(z.object({ reason: z.string(), n: z.number(), overridden: z.boolean() })),
    /** Drawn into the holdout and the arms. */
    drawn: z.number(),
    holdout: z.number(),
    arms: z.array(
      z.object({
        name: z.string(),
        templateId: z.number().nullable(),
        members: z.number(),
        sample: z.object({ customerId: z.number(), mail: renderedMailSchema.nullable() }).nullable(),
      }),
    ),
    /** Of those drawn, who could not be reached now and why (as the send decides; the holdout's share of them is not sent anyway). */
    unreachable: z.array(z.object({ reason: z.string(), n: z.number() })),
    /** About how many treated customers it reaches. */
    reach: z.number(),
    /** Customers drawn who are in a running programme (a journey pass, another campaign in the holdout window). */
    overlap: z.array(z.object({ programme: z.string(), n: z.number() })),
    warnings: z.array(z.string()),
  })
  .openapi('StartPreview');
export type StartPreview = z.infer<typeof startPreviewSchema>;

/** A campaign in the list, with its members by send status. */
export const campaignListSchema = z.object({
  campaigns: z.array(campaignSchema.extend({ counts: z.record(z.string(), z.number()) })),
});
export type CampaignListItem = z.infer<typeof campaignListSchema>['campaigns'][number];
export const campaignWithCountsSchema = z.object({
  campaign: campaignSchema,
  counts: z.record(z.string(), z.number()),
});
export type CampaignWithCounts = z.infer<typeof campaignWithCountsSchema>;

export const templateSummarySchema = z.object({ id: z.number(), name: z.string(), subject: z.string() });
export type TemplateSummary = z.infer<typeof templateSummarySchema>;
export const templateSchema = templateSummarySchema
  .extend({ body: z.string(), updatedAt: z.string() })
  .openapi('Template');
export type Template = z.infer<typeof templateSchema>;

/** One arm against the holdout on one measure (measurement.ts computes it). */
export const comparisonSchema = z.object({
  treated: z.number(),
  control: z.number(),
  /** treated − control, with its 95 % interval. */
  difference: z.number(),
  low: z.number(),
  high: z.number(),
  /** treated / control − 1, with its 95 % interval; null when the control is 0. */
  relative: z.number().nullable(),
  relativeLow: z.number().nullable(),
  relativeHigh: z.number().nullable(),
  p: z.number(),
  /** The smallest difference this many customers would detect 80 % of the time at the 5 % level. */
  detectable: z.number(),
});
export type Comparison = z.infer<typeof comparisonSchema>;

/** Each treated arm against the holdout, and the cumulative lift; campaigns and journeys report alike. */
export const armComparisonSchema = z.object({
  holdout: z
    .object({ members: z.number(), buyers: z.number(), revenue: z.number(), unsubscribed: z.number() })
    .nullable(),
  arms: z.array(
    z.object({
      arm: z.string(),
      members: z.number(),
      sent: z.number(),
      opened: z.number(),
      clicked: z.number(),
      purchase: comparisonSchema.nullable(),
      revenuePerCustomer: comparisonSchema.nullable(),
      unsubscribes: comparisonSchema.nullable(),
      stillActive30: comparisonSchema.extend({ asOf: z.string().nullable() }).nullable(),
      stillActive90: comparisonSchema.extend({ asOf: z.string().nullable() }).nullable(),
      warning: z.string().nullable(),
    }),
  ),
  cumulativeLift: z.array(
    z.object({ arm: z.string(), points: z.array(z.object({ day: z.number(), lift: z.number() })) }),
  ),
});
/** How clean the comparison is: holdout members another programme treated, treated members from another programme's holdout. */
export const contaminationSchema = z.object({
  holdoutTreated: z.number(),
  byProgramme: z.array(z.object({ programme: z.string(), n: z.number() })),
  treatedFromHoldouts: z.number(),
});
export type Contamination = z.infer<typeof contaminationSchema>;
export const holdoutFiguresSchema = armComparisonSchema
  .extend({ days: z.number(), observedDays: z.number(), contamination: contaminationSchema.optional() })
  .openapi('HoldoutFigures');
export type HoldoutFigures = z.infer<typeof holdoutFiguresSchema>;
export const campaignReportSchema = holdoutFiguresSchema.extend({ campaign: campaignSchema }).openapi('CampaignReport');
export type CampaignReport = z.infer<typeof campaignReportSchema>;

export const customerPaceSchema = z.object({
  weeks: z.array(z.object({ week: z.string(), byChannel: z.record(z.string(), z.number()) })),
  marketing: z.object({ sent: z.number(), cap: z.number(), days: z.number(), capped: z.boolean() }),
});
export type CustomerPace = z.infer<typeof customerPaceSchema>;

/** Mail captured instead of sent; `at` as the database writes it. */
export const capturedMailSchema = z.object({
  smtp: z.boolean(),
  messages: z.array(
    z.object({
      id: z.number(),
      at: z.string(),
      to: z.string(),
      subject: z.string(),
      headers: z.record(z.string(), z.string()),
      html: z.string(),
      text: z.string(),
    }),
  ),
});
export type CapturedMail = z.infer<typeof capturedMailSchema>;
