// Tickets, incidents and what counts as a bad experience, as other domains use them.
export { badExperiences, lastFollowUp } from './experience.repository.ts';
export {
  applyTicketUpdates, upsertIncidents, upsertTickets, type IncidentInput, type TicketInput, type TicketUpdateInput,
} from './ticket.repository.ts';
