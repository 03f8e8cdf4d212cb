// Surveys as other domains use them: a survey by key, its answers, and invitations with their one-time links.
export { findSurvey, upsertSurveyResponses, type SurveyResponseInput } from './survey.repository.ts';
export { inviteToSurvey } from './survey.service.ts';
