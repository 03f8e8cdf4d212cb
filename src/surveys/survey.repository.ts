import type { Db } from '../db/connection.ts';
import { upsertRows, type WriteCounts } from '../db/upsert.ts';

export interface SurveyResponseInput {
  customerId: number; externalId: string; at: Date; survey: string; question: string; score: string | null;
  answer: string | null; channel: string | null;
}

export function upsertSurveyResponses(db: Db, responses: SurveyResponseInput[]): Promise<WriteCounts> {
  return upsertRows(db, 'survey_responses', ['customer_id', 'external_id'], [
    { name: 'customer_id', type: 'bigint', value: (r: SurveyResponseInput) => r.customerId },
    { name: 'external_id', type: 'text', value: (r) => r.externalId },
    { name: 'at', type: 'timestamptz', value: (r) => r.at.toISOString() },
    { name: 'survey', type: 'text', value: (r) => r.survey },
    { name: 'question', type: 'text', value: (r) => r.question },
    { name: 'score', type: 'numeric', value: (r) => r.score },
    { name: 'answer', type: 'text', value: (r) => r.answer },
    { name: 'channel', type: 'text', value: (r) => r.channel },
  ], responses, (r) => `${r.customerId}|${r.externalId}`);
}
