// Customers as other domains use them: resolving references, the consent ledger, notes on the record, recent orders.
export { resolveCustomers } from './customer.repository.ts';
export { recordConsent } from './consent.repository.ts';
export { upsertNotes } from './profile.repository.ts';
export { recentOrdersKept } from './lifecycle.repository.ts';
