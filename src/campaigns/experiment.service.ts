// Experiments run elsewhere, at any size: a CSV of members (customer, arm, and optionally the send
// time and the outcomes) streamed in chunks into one transaction, all or nothing, and the report of
// each arm against the control, overall and per subgroup of a customer attribute.
import fs from 'node:fs';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { readCsv, type Encoding } from '../imports/csv-source.ts';
import { AppError } from '../shared/errors.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { insertCampaign, updateCampaign } from './campaign.repository.ts';
import { findCampaign } from './campaign.service.ts';
import { controlArm, type CampaignChannel, type CampaignKind } from './campaign.ts';
import {
  experimentShape,
  experimentSums,
  findExperimentId,
  insertExperimentChunk,
  type ExperimentRow,
} from './experiment.repository.ts';
import {
  cochranQ,
  compareExperiment,
  experimentOutcomes,
  yesNo,
  type ArmSums,
  type ExperimentReport,
} from './experiment.ts';

const chunkSize = 10_000;
const maxArms = 20;
const columns = ['customer', 'arm', 'at', 'converted', 'revenue', 'engaged'] as const;
type Column = (typeof columns)[number];

export interface ExperimentImport {
  file: string;
  name: string;
  /** target=SourceColumn; a target not mapped is read from the column of its own name. */
  map: Record<string, string>;
  /** The holdout arm's name in the file (default control, any case). */
  control?: string;
  kind?: CampaignKind;
  channel?: CampaignChannel;
  encoding?: Encoding;
}

type Issue = { path: string; message: string };

/** Imports the file as one external campaign, or nothing: every problem is reported with its row and column. */
export async function importExperiment(
  deps: Deps,
  principal: Principal,
  input: ExperimentImport,
  onProgress?: ProgressReporter,
): Promise<{ id: number; members: number; arms: Record<string, number> }> {
  for (const key of Object.keys(input.map))
    if (!(columns as readonly string[]).includes(key))
      throw new AppError('validation_failed', `--map: no target "${key}"; the targets are ${columns.join(', ')}`);
  const size = fs.statSync(input.file).size;
  const csv = await readCsv(input.file, {
    encoding: input.encoding ?? 'utf-8',
    onBytes: (bytes) => onProgress?.(bytes, size),
  });
  const index = {} as Record<Column, number>;
  for (const column of columns) {
    const name = input.map[column] ?? column;
    const at = csv.header.findIndex((h) => h.trim() === name);
    if (at < 0 && (column === 'customer' || column === 'arm' || input.map[column]))
      throw new AppError(
        'validation_failed',
        `The file has no column "${name}" for ${column}; its columns are ${csv.header.join(', ')}`,
      );
    index[column] = at;
  }
  const control = (input.control ?? controlArm).toLowerCase();
  const now = deps.clock.now();
  const issues: Issue[] = [];
  const problem = (row: number, column: Column, message: string) => {
    if (issues.length < 50) issues.push({ path: `row ${row}, ${input.map[column] ?? column}`, message });
    counted++;
  };
  let counted = 0;
  const arms = new Map<string, number>();
  return deps.db.transaction(async (tx) => {
    const id = await insertCampaign(tx, {
      name: input.name,
      kind: input.kind ?? 'newsletter',
      channel: input.channel ?? 'email',
      segmentId: null,
      arms: [],
      holdoutShare: 0,
      consentList: 'marketing',
      timeZone: deps.config.timeZone,
      status: 'external',
      external: `imported from ${input.file.split('/').at(-1)}`,
      createdBy: principalName(principal),
      createdAt: now,
    });
    let chunk: ExperimentRow[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const { unknown, duplicate } = await insertExperimentChunk(tx, id, controlArm, chunk);
      for (const r of unknown) problem(r.row, 'customer', `no customer ${JSON.stringify(r.customer)}`);
      for (const r of duplicate)
        problem(r.row, 'customer', `customer ${JSON.stringify(r.customer)} is in the file twice`);
      chunk = [];
    };
    for await (const record of csv.records) {
      const problemsBefore = counted;
      const cell = (c: Column) => (index[c] >= 0 ? (record.values[index[c]] ?? '').trim() : '');
      const customer = cell('customer');
      const rawArm = cell('arm');
      if (!customer) problem(record.row, 'customer', 'empty: expected an external id or an email');
      if (!rawArm) problem(record.row, 'arm', 'empty: expected the arm the customer was in');
      const arm = rawArm.toLowerCase() === control ? controlArm : rawArm;
      if (arm.length > 40) problem(record.row, 'arm', 'longer than 40 characters');
      const when = cell('at');
      const at = when ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(when) ? `${when}T00:00:00Z` : when) : now;
      if (Number.isNaN(at.getTime()))
        problem(record.row, 'at', `${JSON.stringify(when)}: expected a date like 2026-11-02 or 2026-11-02T09:30:00Z`);
      const flag = (c: 'converted' | 'engaged') => {
        const v = cell(c);
        if (index[c] < 0 || v === '') return null;
        const b = yesNo(v);
        if (b === undefined) problem(record.row, c, `${JSON.stringify(v)}: expected 1 or 0 (true/false, yes/no)`);
        return b ?? null;
      };
      const converted = flag('converted');
      const engaged = flag('engaged');
      const money = cell('revenue');
      if (money !== '' && !/^-?\d+(\.\d{1,2})?$/.test(money))
        problem(record.row, 'revenue', `${JSON.stringify(money)}: expected an amount like 12.50`);
      arms.set(arm, (arms.get(arm) ?? 0) + 1);
      if (arms.size > maxArms)
        throw new AppError('validation_failed', `More than ${maxArms} arms in the file: is arm the right column?`);
      // A row with a bad value is not written; the others still are, so every unknown customer is found.
      if (counted === problemsBefore)
        chunk.push({
          row: record.row,
          customer,
          arm,
          at: Number.isNaN(at.getTime()) ? now.toISOString() : at.toISOString(),
          converted,
          revenue: money === '' ? null : money,
          engaged,
        });
      if (chunk.length >= chunkSize) await flush();
    }
    await flush();
    if (counted > 0)
      throw new AppError(
        'validation_failed',
        `${counted.toLocaleString('en')} problem${counted === 1 ? '' : 's'} in the file; nothing was imported`,
        { issues },
      );
    const members = [...arms.values()].reduce((a, b) => a + b, 0);
    if (members === 0) throw new AppError('validation_failed', 'The file has no members; nothing was imported');
    if (!arms.has(controlArm))
      throw new AppError(
        'validation_failed',
        `No member is in the control arm "${input.control ?? controlArm}": name it with --control; nothing was imported`,
      );
    const shape = await experimentShape(tx, id);
    await updateCampaign(tx, id, {
      arms: [...arms.keys()].filter((a) => a !== controlArm).map((name) => ({ name, templateId: null, share: 1 })),
      holdoutShare: (arms.get(controlArm) ?? 0) / members,
      members,
      startedAt: shape.first ? new Date(shape.first) : now,
      finishedAt: now,
    });
    return { id, members, arms: Object.fromEntries(arms) };
  });
}

/** Each treated arm against the control on conversion, revenue per member and engagement; with `by`, per subgroup too. */
export async function experimentReport(
  deps: Deps,
  ref: string | number,
  options: { days: number; by?: string },
): Promise<ExperimentReport> {
  const id = typeof ref === 'number' ? ref : await findExperimentId(deps.db, ref);
  if (id === undefined) throw new AppError('not_found', `No campaign ${JSON.stringify(ref)}`);
  const campaign = await findCampaign(deps, id);
  const shape = await experimentShape(deps.db, id);
  const overall = await experimentSums(deps.db, id, { days: options.days });
  const arms = compareExperiment(overall, controlArm);
  let by: ExperimentReport['by'] = null;
  if (options.by) {
    const rows = await experimentSums(deps.db, id, { days: options.days, by: options.by });
    const names = [...new Set(rows.map((r) => r.group))].sort();
    const groups = names.map((group) => {
      const inGroup: ArmSums[] = rows.filter((r) => r.group === group);
      return {
        group,
        members: inGroup.reduce((s, r) => s + r.n, 0),
        arms: compareExperiment(inGroup, controlArm),
      };
    });
    const heterogeneity = arms.flatMap((a) =>
      experimentOutcomes.map((outcome) => ({
        arm: a.arm,
        outcome,
        ...cochranQ(
          groups.flatMap((g) =>
            g.arms.filter((x) => x.arm === a.arm).flatMap((x) => x.outcomes.filter((o) => o.outcome === outcome)),
          ),
        ),
      })),
    );
    by = { attribute: options.by, groups, heterogeneity };
  }
  return {
    campaign: { id, name: campaign.name },
    days: options.days,
    control: { arm: controlArm, members: shape.arms?.[controlArm] ?? 0 },
    sources: {
      conversion: shape.converted ? 'file' : 'kept',
      revenue: shape.revenue ? 'file' : 'kept',
      engagement: shape.engaged ? 'file' : 'kept',
    },
    arms,
    by,
  };
}
