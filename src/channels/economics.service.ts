// Channel economics: the report from one snapshot of the counts, and the costs people set (audited).
import { audit } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import {
  channelMovement,
  contactCounts,
  customerTallies,
  economicsContext,
  listChannelCosts,
  orderTallies,
  replaceChannelCosts,
} from './economics.repository.ts';
import {
  channelEconomics,
  economicsOptions,
  type ChannelCost,
  type ChannelCostsBody,
  type Economics,
} from './economics.ts';

export { listChannelCosts } from './economics.repository.ts';

/** Every channel of every kind as of now, with the recommendation per acquisition channel. */
export async function channelEconomicsReport(deps: Deps): Promise<Economics> {
  const now = deps.clock.now();
  const options = economicsOptions;
  // One snapshot, so the figures of a page agree with each other while orders keep arriving.
  const input = await deps.db.transaction(
    async (db) => {
      const context = await economicsContext(db);
      return {
        now,
        ...context,
        orders: await orderTallies(db, options),
        customers: await customerTallies(db, {
          now,
          timeZone: deps.config.timeZone,
          runId: context.run?.id ?? null,
          options,
        }),
        contacts: await contactCounts(db),
        movement: await channelMovement(db),
        costs: await listChannelCosts(db),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return channelEconomics(input, options);
}

/**
 * Sets the whole list of costs (what is left out has no cost any more) and records what changed in
 * the audit log, in the same transaction. Answers the costs as they now stand.
 */
export async function setChannelCosts(
  deps: Deps,
  body: ChannelCostsBody,
  by: { actor: string; ip: string | null },
): Promise<ChannelCost[]> {
  return deps.db.transaction(async (tx) => {
    const before = await listChannelCosts(tx);
    const { removed, written } = await replaceChannelCosts(tx, body.costs, { actor: by.actor, at: deps.clock.now() });
    if (removed.length > 0 || written.length > 0) {
      const was = (c: { kind: string; channel: string }) =>
        before.find((b) => b.kind === c.kind && b.channel === c.channel) ?? null;
      const brief = (c: ChannelCost | null) => (c ? { per: c.per, amount: c.amount } : null);
      await audit(tx, {
        actor: by.actor,
        action: 'channel_costs.changed',
        target: [...written, ...removed].map((c) => `${c.kind}:${c.channel}`).join(', '),
        detail: {
          changes: [
            ...written.map((c) => ({ kind: c.kind, channel: c.channel, from: brief(was(c)), to: brief(c) })),
            ...removed.map((c) => ({ kind: c.kind, channel: c.channel, from: brief(c), to: null })),
          ],
        },
        ip: by.ip,
      });
    }
    return listChannelCosts(tx);
  });
}
