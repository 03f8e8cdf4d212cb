// The experiences catalogue: what can happen to a customer that may change what they do next, each
// kind with its label, its valence and its definition in words, the thresholds read from the
// configuration. experience.repository.ts turns the same definitions into SQL.
import { z } from '@hono/zod-openapi';
import type { ExperiencesConfig } from '../config.ts';

export const valences = ['problem', 'gesture'] as const;
export type Valence = (typeof valences)[number];

/**
 * Incident kinds and return reasons that mean the customer got the wrong thing or a broken one: one
 * kind, `wrong_or_damaged_item`, whichever way it was told.
 */
export const wrongOrDamaged = ['wrong_item', 'damaged', 'defective'] as const;
/** Ticket outcomes that mean it ended badly for the customer. */
export const badOutcomes = ['unresolved', 'no_response', 'refused', 'no_fix'] as const;
/** Ticket statuses that mean it is over, when the source did not say when. */
export const closedStatuses = ['resolved', 'closed'] as const;

export interface ExperienceKind {
  kind: string;
  label: string;
  description: string;
  valence: Valence;
  /** Where it is read from, and when it counts, in words with the configured thresholds. */
  definition: string;
}

/** An incident kind in words: `late_delivery` -> "late delivery". */
export const kindWords = (kind: string) => kind.replace(/_/g, ' ');
const labelOf = (kind: string) => {
  const words = kindWords(kind).trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const listed = (codes: readonly string[]) => codes.map(kindWords).join(', ');

/**
 * Every kind the catalogue defines, with its definition under these thresholds; then each incident
 * kind in `incidentKinds` (those the data holds) that has no entry of its own, as itself.
 */
export function experienceCatalogue(
  config: { experiences: ExperiencesConfig },
  incidentKinds: readonly string[] = [],
): ExperienceKind[] {
  const x = config.experiences;
  const fixed: ExperienceKind[] = [
    {
      kind: 'late_delivery',
      label: 'Late delivery',
      description: 'An order arrived later than promised.',
      valence: 'problem',
      definition: 'An incident of kind late_delivery, dated when it was recorded.',
    },
    {
      kind: 'wrong_or_damaged_item',
      label: 'Wrong or damaged item',
      description: 'The customer received the wrong item, or one that was damaged or defective.',
      valence: 'problem',
      definition: `An incident of kind ${wrongOrDamaged.join(', ')}, or a return whose reason code is one of them, dated when it was recorded. An incident and a return about the same order are one experience (the earliest).`,
    },
    {
      kind: 'return',
      label: 'Return',
      description: 'The customer sent something back; the detail says what and why.',
      valence: 'problem',
      definition: `A return for any other reason (or none), dated when it was returned; the returns of one order are one experience (the earliest). Returns for ${listed(wrongOrDamaged)} count as wrong or damaged item instead.`,
    },
    {
      kind: 'portal_abandoned',
      label: 'Portal step abandoned',
      description: 'The customer gave up partway through a step of the self-service portal.',
      valence: 'problem',
      definition: 'An incident of kind portal_abandoned, dated when it was recorded.',
    },
    {
      kind: 'ticket_opened',
      label: 'Ticket opened',
      description: 'The customer needed support.',
      valence: 'problem',
      definition: 'Every ticket, dated when it was opened.',
    },
    {
      kind: 'slow_first_response',
      label: 'Slow first response',
      description: 'Nobody answered the customer in time.',
      valence: 'problem',
      definition: `A ticket with no first reply to the customer (nor resolution) within ${plural(x.slowResponseHours, 'hour')} of being opened (KEPT_SLOW_RESPONSE_HOURS), dated ${plural(x.slowResponseHours, 'hour')} after it was opened.`,
    },
    {
      kind: 'ticket_unresolved',
      label: 'Ticket unresolved',
      description: 'A ticket was not put right: still open after the expected time, or ended badly.',
      valence: 'problem',
      definition: `A ticket not resolved ${plural(x.unresolvedDays, 'day')} after it was opened (KEPT_UNRESOLVED_DAYS), dated then; or one that ended ${listed(badOutcomes)} before that, dated when it ended.`,
    },
    {
      kind: 'low_survey_score',
      label: 'Low survey score',
      description: 'The customer told us in a survey that they were unhappy.',
      valence: 'problem',
      definition: `A survey answer scoring ${x.lowScore} or less on a 1-5 scale (KEPT_LOW_SCORE), or ${x.lowNps} or less on an NPS survey, one whose name contains "nps", 0-10 (KEPT_LOW_NPS); dated when answered.`,
    },
    {
      kind: 'negative_feeling',
      label: 'Felt let down',
      description: 'An agent recorded that the customer felt let down or very upset.',
      valence: 'problem',
      definition: 'A note with a feeling below 0 (-1 let down, -2 very upset), dated when written.',
    },
    {
      kind: 'mail_complaint',
      label: 'Mail complaint',
      description: 'The customer marked our mail as spam or complained about it.',
      valence: 'problem',
      definition: 'A touchpoint of kind email_complaint, dated when it came in.',
    },
    {
      kind: 'gift_received',
      label: 'Gift received',
      description: 'We gave the customer an unexpected gift.',
      valence: 'gesture',
      definition:
        'A worklist decision to give a gift (accepted or changed to one, and approved when it needed approval), dated when decided or approved; or a gift task marked done, dated then.',
    },
    {
      kind: 'offer_received',
      label: 'Offer received',
      description: 'The customer was sent an offer.',
      valence: 'gesture',
      definition:
        'A message sent to the customer in an offer campaign (not the holdout), a touchpoint of kind offer, or a worklist decision to make an offer (accepted or changed to one, and approved when needed); dated when sent or decided.',
    },
  ];
  const known = new Set([...fixed.map((k) => k.kind), ...wrongOrDamaged]);
  const incidents = [...new Set(incidentKinds)]
    .filter((kind) => !known.has(kind))
    .sort()
    .map(
      (kind): ExperienceKind => ({
        kind,
        label: labelOf(kind),
        description: `An incident of kind ${kind}.`,
        valence: 'problem',
        definition: `An incident of kind ${kind}, dated when it was recorded (every incident kind is an experience of its own).`,
      }),
    );
  return [...fixed, ...incidents];
}

// --- what the API answers

export const experienceKindSchema = z
  .object({
    kind: z.string(),
    label: z.string(),
    description: z.string(),
    valence: z.enum(valences),
    definition: z.string(),
  })
  .openapi('ExperienceKind');

export const experienceCountSchema = z
  .object({
    kind: z.string(),
    occurrences: z.number(),
    customers: z.number(),
    first: z.number().openapi({ description: 'Occurrences that were the customer’s first of the kind' }),
    repeated: z.number().openapi({ description: 'Occurrences that were the second or later' }),
  })
  .openapi('ExperienceCount');
export type ExperienceCount = z.infer<typeof experienceCountSchema>;

export const experienceSchema = z
  .object({
    id: z.number(),
    kind: z.string(),
    at: z.string(),
    occurrence: z.number(),
    source: z.string(),
    sourceId: z.number(),
    orderId: z.string().nullable().openapi({ description: 'The order it was about, by its own id' }),
    detail: z.string(),
    valence: z.enum(valences),
    followedUpAt: z.string().nullable(),
  })
  .openapi('Experience');
export type Experience = z.infer<typeof experienceSchema>;
