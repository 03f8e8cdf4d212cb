import type { Db } from '../db/connection.ts';
import { upsertRows, type WriteCounts } from '../db/upsert.ts';

export interface TouchpointInput {
  customerId: number; externalId: string; at: Date; channel: string; direction: 'in' | 'out'; kind: string;
  campaign: string | null; detail: Record<string, unknown> | null;
}

export function upsertTouchpoints(db: Db, touchpoints: TouchpointInput[]): Promise<WriteCounts> {
  return upsertRows(db, 'touchpoints', ['customer_id', 'external_id'], [
    { name: 'customer_id', type: 'bigint', value: (t: TouchpointInput) => t.customerId },
    { name: 'external_id', type: 'text', value: (t) => t.externalId },
    { name: 'at', type: 'timestamptz', value: (t) => t.at.toISOString() },
    { name: 'channel', type: 'text', value: (t) => t.channel },
    { name: 'direction', type: 'text', value: (t) => t.direction },
    { name: 'kind', type: 'text', value: (t) => t.kind },
    { name: 'campaign', type: 'text', value: (t) => t.campaign },
    { name: 'detail', type: 'jsonb', value: (t) => t.detail },
  ], touchpoints, (t) => `${t.customerId}|${t.externalId}`);
}
