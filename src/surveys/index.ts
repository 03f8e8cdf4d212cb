// Surveys and their answers as other domains use them.
export { findSurvey, upsertSurveyResponses, type SurveyResponseInput } from './survey.repository.ts';
