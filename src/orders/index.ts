// Orders and returns as other domains use them.
export {
  orderIds,
  upsertOrders,
  upsertReturns,
  type OrderInput,
  type ReturnInput,
} from './order.repository.ts';
