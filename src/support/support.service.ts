// Service recovery and the glitch view: plain reads, given to the routes as the repository answers them.
export { missedRecoveries, problemsByWeek, recoveryOutcomes } from './recovery.repository.ts';
