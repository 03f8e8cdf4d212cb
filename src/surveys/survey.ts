// Surveys: how one is defined, and what the API answers about surveys, invitations and feedback.
import { z } from '@hono/zod-openapi';

export const surveyQuestionSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _'),
    kind: z.enum(['nps', 'csat', 'ces', 'choice', 'text']),
    text: z.string().trim().min(1).max(300),
    required: z.boolean().optional(),
    options: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,39}$/))
      .min(2)
      .max(12)
      .optional(),
  })
  .openapi('SurveyQuestion');
export const surveyBody = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -'),
    title: z.string().trim().min(1).max(200),
    purpose: z
      .enum(['survey', 'problem'])
      .default('survey')
      .openapi({ description: 'problem: answering opens a ticket tied to the order of the link' }),
    intro: z.string().trim().max(1000).nullable().default(null),
    questions: z.array(surveyQuestionSchema).min(1).max(20),
  })
  .openapi('Survey');

export const surveyListSchema = z.object({
  surveys: z.array(
    surveyBody.extend({
      id: z.number(),
      invited: z.number(),
      answered: z.number(),
      responses: z.number(),
      nps: z.number().nullable(),
      average: z.number().nullable(),
    }),
  ),
});
export type SurveyList = z.infer<typeof surveyListSchema>;
export type SurveySummary = SurveyList['surveys'][number];

export const surveyCreatedSchema = z.object({ id: z.number(), key: z.string() });

/** The links of new invitations, each shown once. */
export const invitationsSchema = z.object({
  invitations: z.array(
    z.object({
      customerId: z.number(),
      invitationId: z.number(),
      token: z.string(),
      url: z.string(),
      expiresAt: z.string(),
    }),
  ),
});
export type Invitations = z.infer<typeof invitationsSchema>;

export const feedbackListSchema = z.object({
  feedback: z.array(
    z.object({
      id: z.number(),
      at: z.string(),
      page: z.string().nullable(),
      score: z.number().nullable(),
      comment: z.string().nullable(),
    }),
  ),
});
export type Feedback = z.infer<typeof feedbackListSchema>['feedback'][number];
