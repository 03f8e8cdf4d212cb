// Customers as people see them: plain reads of the read model, with nothing to decide on the way.
export {
  countCap,
  customerFacets,
  customerSorts,
  customerTimeline,
  getCustomerRecord,
  listCustomers,
  timelineKinds,
  type TimelineKind,
} from './customer.read-model.ts';
