// The demo's past campaigns go into Kept the way a shop records a campaign it ran elsewhere: a CSV
// of members with their arm and send time, imported through the experiment service (what
// `kept import campaign` does), so each report measures the planted effect against its holdout.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { importExperiment } from '../campaigns/experiment.service.ts';
import type { Deps } from '../deps.ts';
import { campaignNamesTaken } from './demo.repository.ts';
import type { PastCampaign, PastMember } from './marketing.ts';

const demo = { kind: 'key', id: 0, name: 'demo', role: 'admin' } as const;
const fileName = (name: string) =>
  `${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}.csv`;

/** Records each past campaign not recorded yet that has both arms; returns how many it recorded. */
export async function recordPastCampaigns(
  deps: Deps,
  campaigns: PastCampaign[],
  members: (PastMember & { customer: string })[],
): Promise<number> {
  const taken = await campaignNamesTaken(
    deps.db,
    campaigns.map((c) => c.name),
  );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kept-demo-'));
  let recorded = 0;
  try {
    for (const campaign of campaigns) {
      const rows = members.filter((m) => m.campaign === campaign.name);
      // Without a holdout (or anyone mailed) there is nothing to measure: a very small store records fewer campaigns.
      if (taken.has(campaign.name) || !rows.some((r) => r.arm === 'control') || !rows.some((r) => r.arm === 'mail'))
        continue;
      const file = path.join(dir, fileName(campaign.name));
      const lines = rows.map((r) => `${r.customer},${r.arm},${new Date(r.at).toISOString()}`);
      await fs.writeFile(file, `customer,arm,at\n${lines.join('\n')}\n`);
      await importExperiment(deps, demo, { file, name: campaign.name, map: {}, kind: campaign.kind, channel: 'email' });
      recorded++;
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return recorded;
}
