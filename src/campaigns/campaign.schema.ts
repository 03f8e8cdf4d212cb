import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** An email template: a subject and an HTML body in Liquid, auto-escaped; the plain text is generated. */
export const templates = pgTable('templates', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  subject: text('subject').notNull(),
  body: text('body').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
});

export interface Arm {
  name: string;
  templateId: number | null;
  share: number;
}

/**
 * A campaign: a segment, arms (each a template and a share of the treated), a random holdout,
 * a channel and a schedule. `external` campaigns were run elsewhere and are only measured here.
 */
export const campaigns = pgTable('campaigns', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  kind: text('kind').notNull(),
  channel: text('channel').notNull(),
  segmentId: bigint('segment_id', { mode: 'number' }),
  arms: jsonb('arms').$type<Arm[]>().notNull(),
  holdoutShare: doublePrecision('holdout_share').notNull(),
  /** The consent list recipients must be on (email). */
  consentList: text('consent_list').notNull(),
  scheduledAt: instant('scheduled_at'),
  timeZone: text('time_zone').notNull(),
  status: text('status').notNull(),
  /** Why a campaign is paused (by a person, or the complaint guard). */
  statusReason: text('status_reason'),
  external: text('external'),
  createdBy: text('created_by').notNull(),
  createdAt: instant('created_at').notNull(),
  startedAt: instant('started_at'),
  finishedAt: instant('finished_at'),
  members: integer('members'),
  /** Who was left out at start and why (universal control group, held out of another programme, an open problem), by reason. */
  exclusions: jsonb('exclusions').$type<Record<string, number>>(),
  /** The person starting it chose to include customers held out of other programmes; the contamination is counted in both reports. */
  overrideHoldouts: boolean('override_holdouts').notNull().default(false),
  /** A recurring campaign: 'week' or 'month'; each occurrence is a campaign of its own with a fresh holdout. */
  repeatEvery: text('repeat_every'),
  /** The first campaign of a recurring series (itself for the first). */
  seriesId: bigint('series_id', { mode: 'number' }),
});

/**
 * The send ledger: one row per (campaign, customer), the arm drawn before anything is sent, and
 * what happened. A row is claimed ('sending') before SMTP and marked 'sent' after; a row found
 * still 'sending' after its lease becomes 'unknown' and is never sent again.
 */
export const campaignMembers = pgTable(
  'campaign_members',
  {
    campaignId: bigint('campaign_id', { mode: 'number' }).notNull(),
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    arm: text('arm').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    assignedAt: instant('assigned_at').notNull(),
    claimedBy: text('claimed_by'),
    claimedAt: instant('claimed_at'),
    sentAt: instant('sent_at'),
    email: text('email'),
    messageId: text('message_id'),
    /** Outcomes a campaign run elsewhere brought in its file (null: measured from Kept's own orders and touchpoints). */
    converted: boolean('converted'),
    revenue: numeric('revenue', { precision: 14, scale: 2 }),
    engaged: boolean('engaged'),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.customerId] }),
    index('campaign_members_status_idx').on(t.campaignId, t.status, t.customerId),
    index('campaign_members_customer_idx').on(t.customerId, t.sentAt),
  ],
);

/** Addresses that must not get mail: a hard bounce or a complaint, whoever they belong to now. */
export const emailSuppressions = pgTable('email_suppressions', {
  email: text('email').primaryKey(),
  reason: text('reason').notNull(),
  at: instant('at').notNull(),
  campaignId: bigint('campaign_id', { mode: 'number' }),
});

/** Mail captured instead of sent when no SMTP server is configured (development, the demo). */
export const capturedMail = pgTable('captured_mail', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: instant('at').notNull(),
  to: text('to').notNull(),
  subject: text('subject').notNull(),
  headers: jsonb('headers').$type<Record<string, string>>().notNull(),
  html: text('html').notNull(),
  text: text('text').notNull(),
});

/** What a channel costs, set by a person: per order, per contact, per month or per customer acquired (channel economics). */
export const channelCosts = pgTable(
  'channel_costs',
  {
    /** acquisition, order or contact: which of a customer's channels the cost belongs to. */
    kind: text('kind').notNull(),
    channel: text('channel').notNull(),
    per: text('per').notNull(),
    amount: numeric('amount', { precision: 14, scale: 2 }).notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.channel] })],
);
