// Orders as other domains use them: order ids by the customer's own order reference.
export { orderIds } from './order.repository.ts';
