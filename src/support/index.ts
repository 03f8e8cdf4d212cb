// Support as other domains use it: tickets opened elsewhere (a problem report), and what counts as a
// bad experience and as a follow-up (journeys' triggers, the worklist).
export { badExperiences, lastFollowUp } from './experience.repository.ts';
export {
  applyTicketUpdates,
  openStatuses,
  upsertIncidents,
  upsertTickets,
  type IncidentInput,
  type TicketInput,
  type TicketUpdateInput,
} from './ticket.repository.ts';
