// What the UI needs to know about the store once, for every page: the currency its amounts are in.
import { z } from '@hono/zod-openapi';

export const settingsSchema = z
  .object({
    currency: z.string().nullable().openapi({
      description: 'ISO 4217 code of the store currency: the most common order currency; null before any order has one',
      example: 'EUR',
    }),
  })
  .openapi('Settings');
export type Settings = z.infer<typeof settingsSchema>;
