import { listLimit } from '../shared/http.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteCounts } from '../db/upsert.ts';
import { surveyResponses, type SurveyQuestion } from './survey.schema.ts';
import type { Feedback } from './survey.ts';

export type SurveyResponseInput = InsertOf<
  typeof surveyResponses,
  'customerId' | 'externalId' | 'at' | 'survey' | 'question' | 'score' | 'answer' | 'channel'
>;

export function upsertSurveyResponses(db: Db, responses: SurveyResponseInput[]): Promise<WriteCounts> {
  return upsertRows(db, surveyResponses, responses, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (r) => r.customerId,
      externalId: (r) => r.externalId,
      at: (r) => r.at,
      survey: (r) => r.survey,
      question: (r) => r.question,
      score: (r) => r.score,
      answer: (r) => r.answer,
      channel: (r) => r.channel,
    },
  });
}

export interface SurveyRow {
  id: number;
  key: string;
  title: string;
  purpose: 'survey' | 'problem';
  intro: string | null;
  questions: SurveyQuestion[];
}

const surveyColumns = sql`id, key, title, purpose, intro, questions`;

export async function findSurvey(db: Db, by: { key: string } | { id: number }): Promise<SurveyRow | undefined> {
  const [row] = await queryRows<SurveyRow>(
    db,
    'key' in by
      ? sql`select ${surveyColumns} from surveys where key = ${by.key}`
      : sql`select ${surveyColumns} from surveys where id = ${by.id}`,
  );
  return row;
}

export async function insertSurvey(db: Db, survey: Omit<SurveyRow, 'id'>): Promise<SurveyRow> {
  const [row] = await queryRows<SurveyRow>(
    db,
    sql`
    insert into surveys (key, title, purpose, intro, questions)
    values (${survey.key}, ${survey.title}, ${survey.purpose}, ${survey.intro}, ${JSON.stringify(survey.questions)}::text::jsonb)
    returning ${surveyColumns}`,
  );
  return row;
}

/** Every survey with its invitations, answers and, for NPS questions, the score (promoters - detractors). */
export async function surveyStats(db: Db) {
  return queryRows<
    SurveyRow & { invited: number; answered: number; responses: number; nps: number | null; average: number | null }
  >(
    db,
    sql`
    with invitations as (
      select survey_id, count(*)::int as invited, count(answered_at)::int as answered from survey_invitations group by 1
    ), answers as (
      select survey, count(distinct (customer_id, external_id))::int as responses,
        round(100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / nullif(count(score), 0))::int as nps,
        avg(score)::float8 as average
      from survey_responses group by 1
    )
    select s.id, s.key, s.title, s.purpose, s.intro, s.questions, coalesce(i.invited, 0) as invited, coalesce(i.answered, 0) as answered,
      coalesce(a.responses, 0) as responses, case when s.questions @> '[{"kind":"nps"}]' then a.nps end as nps, a.average
    from surveys s left join invitations i on i.survey_id = s.id left join answers a on a.survey = s.key
    order by s.id limit ${listLimit}`,
  );
}

export async function insertInvitations(
  db: Db,
  rows: {
    customerId: number;
    surveyId: number;
    tokenHash: string;
    orderId: number | null;
    channel: string | null;
    expiresAt: Date;
  }[],
): Promise<{ id: number; customer_id: number }[]> {
  if (rows.length === 0) return [];
  return queryRows(
    db,
    sql`
    insert into survey_invitations (customer_id, survey_id, token_hash, order_id, channel, expires_at)
    select * from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.surveyId))}::bigint[],
      ${array(rows.map((r) => r.tokenHash))}::text[], ${array(rows.map((r) => r.orderId))}::bigint[], ${array(rows.map((r) => r.channel))}::text[],
      ${array(rows.map((r) => r.expiresAt.toISOString()))}::timestamptz[])
    returning id, customer_id`,
  );
}

export interface InvitationRow {
  id: number;
  customer_id: number;
  survey_id: number;
  order_id: number | null;
  order_external_id: string | null;
  channel: string | null;
  expires_at: string;
  answered_at: string | null;
}

/** The invitation behind a token hash, unless it has expired. */
export async function findInvitation(db: Db, tokenHash: string, now: Date): Promise<InvitationRow | undefined> {
  const [row] = await queryRows<InvitationRow>(
    db,
    sql`
    select i.id, i.customer_id, i.survey_id, i.order_id, o.external_id as order_external_id, i.channel, i.expires_at, i.answered_at
    from survey_invitations i
    left join orders o on o.customer_id = i.customer_id and o.id = i.order_id
    where i.token_hash = ${tokenHash} and i.expires_at > ${now.toISOString()}::timestamptz`,
  );
  return row;
}

export async function markAnswered(db: Db, invitation: { customerId: number; id: number }, at: Date): Promise<void> {
  await db.execute(
    sql`update survey_invitations set answered_at = ${at.toISOString()}::timestamptz where customer_id = ${invitation.customerId} and id = ${invitation.id}`,
  );
}

export async function insertAnonymousFeedback(
  db: Db,
  feedback: { page: string | null; score: number | null; comment: string | null; at: Date },
): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into anonymous_feedback (at, page, score, comment) values (${feedback.at.toISOString()}::timestamptz, ${feedback.page}, ${feedback.score}, ${feedback.comment})
    returning id`,
  );
  return row.id;
}

/** Feedback as stored; `at` as the database writes it. */
export async function listFeedback(db: Db, page: { limit: number; before?: number }): Promise<Feedback[]> {
  return queryRows<Feedback>(
    db,
    sql`
    select id, at, page, score, comment from anonymous_feedback
    where ${page.before === undefined ? sql`true` : sql`id < ${page.before}`} order by id desc limit ${page.limit}`,
  );
}
