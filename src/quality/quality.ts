// Data quality's contract: what the entry checks say about a record, the problems the data-quality
// page counts, and its answers. The routes describe their responses with these schemas and the UI
// imports the inferred types.
import { z } from '@hono/zod-openapi';

/** What an entry check can find; one stored row per field and code (record_warnings). */
export const warningCodes = [
  'email_invalid',
  'email_typo',
  'phone_invalid',
  'postcode_format',
  'date_range',
  'name_case',
  'name_form',
] as const;
export type WarningCode = (typeof warningCodes)[number];

/** One thing an entry check found doubtful in a record, in words, with the likely right value when there is one. */
export interface RecordWarning {
  /** name, email, phone, postal_code, created_at, first_order_at, attributes.<key> */
  field: string;
  code: WarningCode;
  message: string;
  suggestion: string | null;
}

/** The problems the data-quality page counts: the entry checks' findings and what other parts of Kept know. */
export const problemCodes = [
  'duplicate',
  'stale_address',
  'bounced',
  'phone_invalid',
  'email_typo',
  'email_invalid',
  'postcode_format',
  'name_case',
  'name_form',
  'date_range',
  'missing_consent',
] as const;
export type ProblemCode = (typeof problemCodes)[number];

/** Each problem's plain label and its "what is this" line. */
export const problemWords: Record<ProblemCode, { label: string; about: string }> = {
  duplicate: {
    label: 'Possible duplicates',
    about: 'Customers in a duplicate pair nobody has reviewed yet: two records that look like one person.',
  },
  stale_address: {
    label: 'Stale addresses',
    about: 'Marked moved or undeliverable, or an address a check asks someone to review: post would not arrive.',
  },
  bounced: {
    label: 'Bounced emails',
    about: 'The email address bounced hard or complained, so no mail goes to it any more.',
  },
  phone_invalid: {
    label: 'Invalid phone numbers',
    about: 'The phone number cannot exist in its country (wrong length or prefix): a call would not connect.',
  },
  email_typo: {
    label: 'Email typos',
    about: 'The email domain looks like a misspelt common provider (exmaple.com for example.com).',
  },
  email_invalid: {
    label: 'Unusable emails',
    about: 'The email address is not one mail can be sent to (no dot in the domain, spaces, two @ ...).',
  },
  postcode_format: {
    label: 'Postcode problems',
    about: "The postcode of the current address does not have its country's format.",
  },
  name_case: {
    label: 'Names in capitals or lower case',
    about: 'The name is all capitals or all lower case; a mail greeting would show it so.',
  },
  name_form: {
    label: 'Names that are not names',
    about: 'The name is an email address or contains digits.',
  },
  date_range: {
    label: 'Implausible dates',
    about: 'A date in the future or before 1900 (created, first order, a date attribute such as a birth date).',
  },
  missing_consent: {
    label: 'Missing marketing consent',
    about: 'Nothing on record about marketing consent, neither given nor withdrawn: ask for it.',
  },
};

export const qualityReportSchema = z
  .object({
    day: z.string(),
    customers: z.number(),
    /** Customers without any of the problems counted. */
    clean: z.number(),
    /** 0-100: the share of customers without any problem, in percent. */
    score: z.number(),
    problems: z.array(
      z.object({ code: z.enum(problemCodes), label: z.string(), about: z.string(), customers: z.number() }),
    ),
    history: z.array(z.object({ day: z.string(), score: z.number(), customers: z.number() })),
  })
  .openapi('QualityReport');
export type QualityReport = z.infer<typeof qualityReportSchema>;

export const qualityCustomersSchema = z
  .object({
    problem: z.enum(problemCodes),
    label: z.string(),
    customers: z.array(
      z.object({
        id: z.number(),
        externalId: z.string().nullable(),
        name: z.string().nullable(),
        email: z.string().nullable(),
        /** The problem in words for this customer (the stored warning's message, or what makes it a problem). */
        message: z.string(),
        suggestion: z.string().nullable(),
      }),
    ),
    total: z.number(),
    page: z.number(),
    pageSize: z.number(),
  })
  .openapi('QualityCustomers');
export type QualityCustomers = z.infer<typeof qualityCustomersSchema>;
