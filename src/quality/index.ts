// Data quality as other domains use it: the entry checks on records that changed (the write
// pipeline, merges and edits call it) and the day's snapshot (the nightly analysis takes it).
export { checkRecords } from './quality.repository.ts';
export { takeQualitySnapshot } from './quality.service.ts';
export type { RecordWarning } from './quality.ts';
