// The demo store's planted rules, in one place: docs/demo-data.md describes each one with these numbers.

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
   * The newsletter works: while it arrives, a customer who has not gone silent buys this many times
   * as often (after each of their own orders, a 10 % chance of one more before the next).
   */
  newsletterRate: 1.1,
  /**
   * Marketing of the last two years recorded as campaigns, each with a random holdout of `holdout`
   * kept for all its mailings: members are subscribers outside the universal control group (who get
   * no marketing at all). A treated member orders within `windowDays` of a mail, beyond what they
   * would have done anyway, with the chance `response`: the planted effect.
   */
  pastCampaigns: {
    holdout: 0.1,
    windowDays: 30,
    /** "No order for this long" makes a customer look at risk. */
    quietDays: 60,
    /** "We miss you" every quarter of the last year to every subscriber quiet for `quietDays` then. */
    winBack: { name: 'We miss you', response: 0.06, firstDaysIntoYear: 30, everyDays: 91, sends: 4 },
    /** The win-back journey of the first year: a subscriber enters when they have been quiet for `quietDays`. */
    journey: { name: 'Win-back journey', response: 0.06 },
    /** Mid-March, to every subscriber who has bought: no effect at all, an honest null. */
    catalogue: { name: 'Spring catalogue', response: 0, month: 3, day: 15 },
  },
  /** The shop's own order confirmation a few minutes after each web and mobile order; none after store (or phone) orders. */
  orderConfirmation: { campaign: 'Order follow-up', channels: ['web', 'mobile'], minutes: { low: 1, high: 10 } },
  /**
   * Buyers who take the monthly refresh box (a fifth of them the plus box); each renewal's chance of
   * cancelling ~ Beta(alpha, beta), mean 0.08; tripled by a delivery problem in the 60 days before.
   */
  subscriptions: { share: 0.15, plusShare: 0.2, alpha: 0.8, beta: 9.2, problemFactor: 3 },
} as const;
