// The programme's total lift against the universal control group: the counts from one snapshot,
// compared and worded by lift.ts.
import type { Deps } from '../deps.ts';
import { controlHealth, groupTallies, marketingVolume, periodBounds, settingsForReport } from './lift.repository.ts';
import { programmeLift, type ProgrammeLift } from './lift.ts';

/** The last `months` calendar months (the current one to date) and the whole span, as of now. */
export async function programmeLiftReport(deps: Deps, months: number): Promise<ProgrammeLift> {
  const now = deps.clock.now();
  const { timeZone } = deps.config;
  const share = deps.config.programme.universalControl;
  // One snapshot, so the months, the span and the control group's health agree while orders arrive.
  const input = await deps.db.transaction(
    async (db) => {
      await settingsForReport(db);
      const periods = await periodBounds(db, { now, timeZone, months });
      const from = periods.find((p) => p.period === 'span')!.from;
      return {
        periods,
        tallies: await groupTallies(db, { now, timeZone, months, share }),
        volume: await marketingVolume(db, { from, now, timeZone }),
        control: await controlHealth(db, { from, now, share }),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return programmeLift({ share, timeZone, months, now, ...input });
}
