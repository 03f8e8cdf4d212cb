// The write pipeline as the doors (events, files) use it.
export type { CustomerRef, Fact, FactData, FactKind, ResolvedFact } from './fact.ts';
export {
  refreshCustomers,
  resolveFacts,
  writeFacts,
  writeResolved,
  type Written,
} from './facts.service.ts';
