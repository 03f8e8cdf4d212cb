// Customers as other domains use them.
export { recentOrdersKept } from './lifecycle.repository.ts';
