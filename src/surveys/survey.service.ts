// Surveys: invitations with unguessable links, answers checked per question and stored on the
// customer's timeline; a problem report opens a ticket tied to the order.
import { createHash, randomBytes } from 'node:crypto';
import { publicBase } from '../config.ts';
import type { Deps } from '../deps.ts';
import { flaggedAgainst } from '../customers/index.ts';
import { AppError } from '../shared/errors.ts';
import { upsertTickets } from '../support/index.ts';
import {
  findInvitation,
  findSurvey,
  insertAnonymousFeedback,
  insertInvitations,
  insertSurvey,
  markAnswered,
  upsertSurveyResponses,
  type InvitationRow,
  type SurveyRow,
} from './survey.repository.ts';
import type { SurveyQuestion } from './survey.schema.ts';

export { listFeedback, surveyStats } from './survey.repository.ts';

const scales = { nps: [0, 10], csat: [1, 5], ces: [1, 7] } as const;
export const maxAnswerLength = 2000;

/** Tokens are 256 random bits; only their SHA-256 is stored, so a database leak reveals no link. */
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const looksLikeToken = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);

export function surveyLink(deps: Deps, token: string): string {
  const base = publicBase(deps.config);
  return `${base}/s/${token}`;
}

export async function createSurvey(deps: Deps, input: Omit<SurveyRow, 'id'>): Promise<SurveyRow> {
  if (await findSurvey(deps.db, { key: input.key }))
    throw new AppError('conflict', `A survey with key ${input.key} exists`);
  const invalid = (path: string, message: string) =>
    new AppError('validation_failed', message, { issues: [{ path, message }] });
  input.questions.forEach((q, i) => {
    if (input.questions.findIndex((other) => other.id === q.id) !== i)
      throw invalid(`questions.${i}.id`, 'Each question needs its own id');
    if (q.kind === 'choice' && !(q.options && q.options.length >= 2))
      throw invalid(`questions.${i}.options`, `Question ${q.id} is a choice and needs at least two options`);
  });
  return insertSurvey(deps.db, input);
}

/**
 * Invitations asked for through the API: all or none, and none for a customer whose flags stop
 * survey invitations (deceased, do not contact: src/customers/flags.ts), named with the flag.
 */
export async function inviteByRequest(
  deps: Deps,
  surveyKey: string,
  invitations: { customerId: number; orderId?: number | null; channel?: string | null }[],
) {
  const flagged = await flaggedAgainst(
    deps.db,
    invitations.map((i) => i.customerId),
    'survey',
  );
  if (flagged.size > 0) {
    const issues = invitations
      .map((inv, index) => ({ path: `invitations.${index}.customerId`, reason: flagged.get(inv.customerId) }))
      .filter((i) => i.reason)
      .map((i) => ({
        path: i.path,
        message: `customer is flagged: ${i.reason!.replace(/^flag /, '')}; no survey invitation`,
      }));
    throw new AppError(
      'conflict',
      `${issues.length} customer${issues.length === 1 ? ' is' : 's are'} flagged so that no survey invitation may reach them; nothing was created`,
      { issues },
    );
  }
  return inviteToSurvey(deps, surveyKey, invitations);
}

/** Invites customers to a survey; each gets a link that is shown here once and stored only as a hash. */
export async function inviteToSurvey(
  deps: Deps,
  surveyKey: string,
  invitations: { customerId: number; orderId?: number | null; channel?: string | null }[],
) {
  const survey = await findSurvey(deps.db, { key: surveyKey });
  if (!survey) throw new AppError('not_found', `No survey ${surveyKey}`);
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.care.surveyLinkDays * 86_400_000);
  const tokens = invitations.map(() => randomBytes(32).toString('base64url'));
  const rows = await insertInvitations(
    deps.db,
    invitations.map((inv, i) => ({
      customerId: inv.customerId,
      surveyId: survey.id,
      tokenHash: hashToken(tokens[i]),
      orderId: inv.orderId ?? null,
      channel: inv.channel ?? null,
      expiresAt,
    })),
  );
  return rows.map((row, i) => ({
    customerId: row.customer_id,
    invitationId: row.id,
    token: tokens[i],
    url: surveyLink(deps, tokens[i]),
    expiresAt: expiresAt.toISOString(),
  }));
}

/** The survey behind a link, or undefined for an unknown or expired one (the two look the same). */
export async function openSurveyLink(
  deps: Deps,
  token: string,
): Promise<{ invitation: InvitationRow; survey: SurveyRow } | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const invitation = await findInvitation(deps.db, hashToken(token), deps.clock.now());
  if (!invitation) return undefined;
  const survey = await findSurvey(deps.db, { id: invitation.survey_id });
  return survey && { invitation, survey };
}

type Answer = { question: SurveyQuestion; score: number | null; text: string | null };

/** Checks each answer against its question; returns the answers or, per question id, what is wrong. */
export function checkAnswers(
  questions: SurveyQuestion[],
  form: Record<string, string | undefined>,
): { answers: Answer[] } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const answers: Answer[] = [];
  for (const question of questions) {
    const raw = (form[question.id] ?? '').trim();
    if (!raw) {
      if (question.required) errors[question.id] = 'Please answer this question';
      continue;
    }
    if (question.kind === 'text') {
      if (raw.length > maxAnswerLength) errors[question.id] = `Please keep it under ${maxAnswerLength} characters`;
      else answers.push({ question, score: null, text: raw });
    } else if (question.kind === 'choice') {
      if (!question.options?.includes(raw)) errors[question.id] = 'Please pick one of the options';
      else answers.push({ question, score: null, text: raw });
    } else {
      const [low, high] = scales[question.kind];
      const value = Number(raw);
      if (!Number.isInteger(value) || value < low || value > high)
        errors[question.id] = `Please pick a number from ${low} to ${high}`;
      else answers.push({ question, score: value, text: null });
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { answers };
}

/**
 * Stores a customer's answers (answering again replaces them) on their timeline; a problem report
 * opens, or updates, one ticket tied to the order of the link.
 */
export async function answerSurvey(deps: Deps, token: string, form: Record<string, string | undefined>) {
  const opened = await openSurveyLink(deps, token);
  if (!opened) throw new AppError('not_found', 'This link is not valid or has expired');
  const { invitation, survey } = opened;
  const checked = checkAnswers(survey.questions, form);
  if ('errors' in checked) return checked;
  const at = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    await upsertSurveyResponses(
      tx,
      checked.answers.map((a) => ({
        customerId: invitation.customer_id,
        externalId: `invitation:${invitation.id}:${a.question.id}`,
        at,
        survey: survey.key,
        question: a.question.text,
        score: a.score === null ? null : String(a.score),
        answer: a.text,
        channel: invitation.channel ?? 'web',
      })),
    );
    if (survey.purpose === 'problem') {
      const pick = (id: string) => checked.answers.find((a) => a.question.id === id)?.text ?? null;
      const details = pick('details');
      await upsertTickets(tx, [
        {
          customerId: invitation.customer_id,
          externalId: `problem-link:${invitation.id}`,
          openedAt: at,
          channel: 'web',
          category: pick('category'),
          priority: 'high',
          status: 'open',
          subject: details ? details.slice(0, 120) : survey.title,
          orderExternalId: invitation.order_external_id,
          assignee: null,
          resolvedAt: null,
          outcome: null,
        },
      ]);
    }
    await markAnswered(tx, { customerId: invitation.customer_id, id: invitation.id }, at);
  });
  return { answers: checked.answers.length };
}

/** Website feedback from someone who did not sign in or follow a link. */
export async function leaveFeedback(
  deps: Deps,
  form: Record<string, string | undefined>,
): Promise<{ id: number } | { errors: Record<string, string> }> {
  const checked = checkAnswers(
    [
      { id: 'score', kind: 'csat', text: 'How was your visit?', required: true },
      { id: 'comment', kind: 'text', text: 'Comment' },
    ],
    form,
  );
  if ('errors' in checked) return checked;
  const page = form.page?.trim().slice(0, 500) || null;
  return {
    id: await insertAnonymousFeedback(deps.db, {
      page,
      score: checked.answers[0].score,
      comment: checked.answers[1]?.text ?? null,
      at: deps.clock.now(),
    }),
  };
}
