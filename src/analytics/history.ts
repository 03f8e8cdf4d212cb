// One customer's history as the outcome tables, the hazard model and the uplift model read it:
// loaded once per analysis (analytics.repository.ts), times in days since the epoch (fractional).

/** One experience occurrence from the catalogue (src/experiences). */
export interface ExperienceOccurrence {
  /** experiences.id */
  id: number;
  /** e.g. late_delivery, return, ticket_opened, slow_first_response, low_survey, gift_received ... */
  kind: string;
  at: number;
  /** 1 = the customer's first of this kind. */
  occurrence: number;
  /** problem (a late delivery) or gesture (a gift, an offer). */
  valence: 'problem' | 'gesture';
  /** The first follow-up by someone on our side after it, or null. */
  followedUpAt: number | null;
}

export interface CustomerHistory {
  customerId: number;
  /** Acquisition channel, or null. */
  channel: string | null;
  /** The category the customer bought most from (by lines), or null. */
  category: string | null;
  /** Ascending by time; zero-value orders already dropped when the store ignores them. */
  orders: { at: number; total: number }[];
  /** Ascending by time. */
  experiences: ExperienceOccurrence[];
  /** Custom attributes as they stand now (the uplift model reads them). */
  attributes?: Record<string, unknown>;
}

export const dayMs = 86_400_000;
export const toDay = (at: Date | string) => (typeof at === 'string' ? Date.parse(at) : at.getTime()) / dayMs;
