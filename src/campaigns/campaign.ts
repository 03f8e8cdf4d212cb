import { z } from '@hono/zod-openapi';
import { instant, isCalendarDate } from '../shared/input.ts';

export const campaignKinds = ['newsletter', 'offer', 'win_back', 'survey', 'announcement'] as const;
/** email is sent from here; the others produce a list (call list, store list, mailing file) with suppression applied. */
export const campaignChannels = ['email', 'phone', 'store', 'direct_mail'] as const;
export type CampaignChannel = (typeof campaignChannels)[number];
export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'done' | 'cancelled' | 'external';
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

/** Flags under which no marketing reaches a customer, whatever the channel. */
export const blockingFlags = ['deceased', 'do_not_contact', 'moved', 'undeliverable'];

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
