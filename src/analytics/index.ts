// What other domains use of the analytics.
export { latestRun } from './analytics.repository.ts';
