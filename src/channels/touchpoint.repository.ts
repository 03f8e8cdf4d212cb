import type { Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteCounts } from '../db/upsert.ts';
import { touchpoints as touchpointTable } from './touchpoint.schema.ts';

export type TouchpointInput = InsertOf<
  typeof touchpointTable,
  'customerId' | 'externalId' | 'at' | 'channel' | 'direction' | 'kind' | 'campaign' | 'detail'
>;

/** Touchpoints keyed by (customer, external id): the same touchpoint sent twice is stored once. */
export function upsertTouchpoints(db: Db, touchpoints: TouchpointInput[]): Promise<WriteCounts> {
  return upsertRows(db, touchpointTable, touchpoints, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (t) => t.customerId,
      externalId: (t) => t.externalId,
      at: (t) => t.at,
      channel: (t) => t.channel,
      direction: (t) => t.direction,
      kind: (t) => t.kind,
      campaign: (t) => t.campaign,
      detail: (t) => t.detail,
    },
  });
}
