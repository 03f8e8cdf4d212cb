// Surveys as other domains use them: a survey by key, and invitations with their one-time links.
export { findSurvey } from './survey.repository.ts';
export { inviteToSurvey } from './survey.service.ts';
