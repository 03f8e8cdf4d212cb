// Campaigns as other domains use them (journeys mail, and are measured, like campaigns): templates,
// the campaign row behind a journey, who may get a mail and what it may say, the report's figures.
export {
  insertCampaign,
  insertTemplate,
  personalisation,
  recipients,
  selectTemplate,
  templateIdByName,
  updateCampaign,
} from './campaign.repository.ts';
export { armOutcomes, contamination, firstPurchaseDays, stillActiveAfter, type Measured } from './report.repository.ts';
export { inUniversalControlSql, programmeHold } from './programme.repository.ts';
export { inUniversalControl, type Hold, type HoldKind } from './programme.ts';
