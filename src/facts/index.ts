// The write pipeline as the doors (events, files) use it.
export type { CustomerRef, Fact, FactData, FactKind, Rejection, ResolvedFact } from './fact.ts';
export {
  refreshCustomers,
  resolveFacts,
  writeFacts,
  writeResolved,
  type FactsWritten,
  type Written,
} from './facts.service.ts';
