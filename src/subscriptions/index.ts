// Subscriptions as other domains use them: the writer of subscription events (facts) and the move
// of a duplicate customer's subscriptions (merge).
export {
  moveSubscriptions,
  refreshSubscriptions,
  upsertSubscriptions,
  type EventOutcome,
  type SubscriptionInput,
  type SubscriptionsWritten,
} from './subscription.repository.ts';
export {
  subscriptionChanges,
  subscriptionPeriods,
  type SubscriptionChange,
  type SubscriptionPeriod,
} from './subscription.ts';
