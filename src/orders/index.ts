// Orders, returns and deliveries as other domains use them.
export {
  orderIds,
  upsertDeliveries,
  upsertOrders,
  upsertReturns,
  type DeliveryInput,
  type OrderInput,
  type ReturnInput,
} from './order.repository.ts';
export { productCount, upsertProducts, type ProductInput } from './product.repository.ts';
