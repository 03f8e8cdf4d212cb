// Support as other domains use it: tickets opened elsewhere (a problem report), and what counts as a
// bad experience and as a follow-up (journeys' triggers, the worklist).
export { upsertTickets } from './ticket.repository.ts';
export { badExperiences, lastFollowUp } from './experience.repository.ts';
