// Subscriptions (contractual retention): leaving is observed, as a cancellation, not inferred.

/** What can happen to a subscription. */
export const subscriptionChanges = ['started', 'renewed', 'cancelled'] as const;
export type SubscriptionChange = (typeof subscriptionChanges)[number];

/** How often a subscription renews; month when not told. */
export const subscriptionPeriods = ['week', 'month', 'quarter', 'year'] as const;
export type SubscriptionPeriod = (typeof subscriptionPeriods)[number];
