// Every kind of background job and the code that runs it, in one place. `kept serve` registers them
// before it resumes interrupted jobs or starts new ones; so does the test harness (test/database.ts).
import type { ActivityModel } from '../config.ts';
import fs from 'node:fs';
import { analyze } from '../analytics/analyze.service.ts';
import { audit } from '../audit/index.ts';
import { sendCampaign } from '../campaigns/send.service.ts';
import type { ImportJobPayload } from '../imports/import.ts';
import { runImport } from '../imports/import.service.ts';
import { sweepRetention } from '../privacy/retention.ts';
import { takeQualitySnapshot } from '../quality/index.ts';
import { registerJobHandler } from './job.service.ts';

export function registerJobHandlers(): void {
  registerJobHandler('analyze', async (deps, payload, _jobId, report) => {
    const model = payload.model as ActivityModel | undefined;
    const outcome = await analyze(deps, { asOf: payload.asOf as string | undefined, model, onProgress: report });
    // The nightly run (and any run describing now) also takes the day's data-quality score.
    if (outcome.current) await takeQualitySnapshot(deps);
    return { ...outcome };
  });

  // An upload whose import will not go on is removed: its rejected-rows file stays, it is the user's report.
  registerJobHandler(
    'import',
    async (deps, payload, jobId, report) => {
      const job = payload as ImportJobPayload;
      const outcome = await runImport(
        deps,
        {
          kind: job.kind,
          file: job.file,
          map: job.map,
          dateFormat: job.dateFormat,
          delimiter: job.delimiter,
          encoding: job.encoding,
        },
        { onProgress: report, jobId },
      );
      await audit(deps.db, {
        actor: job.by ?? 'system',
        action: 'import.finished',
        target: `${job.kind} from ${job.fileName}`,
        detail: { importId: outcome.importId, jobId, ...outcome.counts },
      });
      return {
        importId: outcome.importId,
        ...outcome.counts,
        resumed: outcome.resumed,
        hasRejected: outcome.rejectedFile !== null,
      };
    },
    { onFailed: (_deps, payload) => fs.promises.rm((payload as ImportJobPayload).file, { force: true }) },
  );

  registerJobHandler('retention', async (deps, payload, _jobId, report) => ({
    results: await sweepRetention(deps, String(payload.by ?? 'system'), report),
  }));

  registerJobHandler('campaign.send', async (deps, payload, _jobId, report) =>
    sendCampaign(deps, Number(payload.campaignId), { onProgress: report }),
  );
}
