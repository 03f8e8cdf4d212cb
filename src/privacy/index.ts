// Privacy as other domains use it: the tables that hold a customer's rows, from the catalogue.
export { customerTables } from './privacy.repository.ts';
