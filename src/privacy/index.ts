// Privacy as other domains use it: an erased person is never stored again; every table that holds customers.
export { erasedMessage, erasedRefs } from './erasure.ts';
export { customerTables } from './privacy.repository.ts';
