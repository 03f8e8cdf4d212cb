// Customers as people see them: plain reads of the read model, with nothing to decide on the way.
export {
  countCap,
  customerFacets,
  customerTimeline,
  getCustomerRecord,
  listCustomers,
  searchCountCap,
} from './customer.read-model.ts';
