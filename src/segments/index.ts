// Segments as other domains use them: a rule compiled to SQL, and the analysis run rules read scores from.
export { compileRule, scoringRun } from './segment.repository.ts';
