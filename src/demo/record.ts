// The demo's past campaigns go into Kept the way a shop records a campaign it ran elsewhere: its
// members with their arm and send time, in pages through the experiment service (what
// POST /campaigns/experiments and its pages do), so each report measures the planted effect against its holdout.
import { addExperimentMembers, createExperiment, finishExperiment } from '../campaigns/experiment.service.ts';
import { pageMembers } from '../campaigns/experiment.ts';
import type { Deps } from '../deps.ts';
import { campaignNamesTaken } from './demo.repository.ts';
import type { PastCampaign, PastMember } from './marketing.ts';

const demo = { kind: 'key', id: 0, name: 'demo', role: 'admin' } as const;

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
  let recorded = 0;
  for (const campaign of campaigns) {
    const rows = members.filter((m) => m.campaign === campaign.name);
    // Without a holdout (or anyone mailed) there is nothing to measure: a very small store records fewer campaigns.
    if (taken.has(campaign.name) || !rows.some((r) => r.arm === 'control') || !rows.some((r) => r.arm === 'mail'))
      continue;
    const { id } = await createExperiment(deps, demo, {
      name: campaign.name,
      control: 'control',
      kind: campaign.kind,
      channel: 'email',
    });
    for (let i = 0; i < rows.length; i += pageMembers)
      await addExperimentMembers(deps, id, {
        members: rows.slice(i, i + pageMembers).map((r) => ({
          customer: { externalId: r.customer },
          arm: r.arm,
          at: new Date(r.at).toISOString(),
        })),
      });
    await finishExperiment(deps, id);
    recorded++;
  }
  return recorded;
}
