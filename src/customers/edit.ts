// Editing a record by a person (docs/record.md, "Editing a record"): what the edit routes take.
// The UI imports the inferred types.
import { z } from '@hono/zod-openapi';
import { address, channel } from '../ingest/event.ts';
import { instant } from '../shared/input.ts';

/** Why, in words: required on every edit, kept on the timeline and in the audit log. */
const reason = z
  .string()
  .trim()
  .min(1, 'say why (it is kept with the change)')
  .max(500)
  .openapi({ description: 'Why: kept on the timeline and in the audit log' });

/** Stricter than what a door takes as a reference: a person typing an address gets told of a missing domain. */
const emailShape = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export const recordEditBody = z
  .object({
    name: z.string().trim().min(1).max(300).optional(),
    acquisitionChannel: channel.optional(),
    email: z
      .string()
      .trim()
      .max(320)
      .refine(
        (email) => emailShape.test(email),
        'not an email address: it needs a name, one @ and a domain like example.com',
      )
      .optional()
      .openapi({ description: 'The new email; the old one stays an identity of this customer' }),
    phone: z
      .string()
      .trim()
      .max(50)
      .refine((phone) => phone.replace(/\D/g, '').length >= 5, 'not a phone number: at least 5 digits')
      .optional()
      .openapi({ description: 'The new phone number; the old one stays an identity of this customer' }),
    attributes: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'snake_case attribute key'),
        z.union([z.string().max(2000), z.number().finite(), z.boolean(), z.null()]),
      )
      .optional()
      .openapi({ description: 'Custom attributes to set (typed at first use) or, with null, remove' }),
    reason,
  })
  .refine(
    (body) =>
      body.name !== undefined ||
      body.acquisitionChannel !== undefined ||
      body.email !== undefined ||
      body.phone !== undefined ||
      (body.attributes !== undefined && Object.keys(body.attributes).length > 0),
    { message: 'nothing to change: give name, acquisitionChannel, email, phone or attributes', path: ['body'] },
  )
  .openapi('RecordEdit');
export type RecordEdit = z.infer<typeof recordEditBody>;

export const newAddressBody = address
  .extend({
    line1: address.shape.line1.unwrap(),
    validFrom: instant
      .optional()
      .openapi({ description: 'Since when the customer lives there; now when not given, never in the future' }),
    reason,
  })
  .openapi('NewAddress');
export type NewAddress = z.infer<typeof newAddressBody>;

/** What each role may change in a record; the routes' guard (staff) lets analysts change nothing. */
export const editableBy = {
  admin: ['name', 'email', 'phone', 'acquisitionChannel', 'attributes', 'address'],
  marketer: ['name', 'email', 'phone', 'acquisitionChannel', 'attributes', 'address'],
  agent: ['name', 'email', 'phone', 'address'],
  analyst: [],
} as const;
export type EditableField = (typeof editableBy)['admin'][number];
