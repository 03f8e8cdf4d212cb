// Experiments run elsewhere, at any size, by two doors into one code path: a CSV of members
// (customer, arm, and optionally the send time and the outcomes) streamed in chunks into one
// transaction, all or nothing; or the API, a campaign created, filled a page at a time (each page all
// or nothing) and finished. Both check each member with readMember, write with writeMembers and close
// with finishUpload. Then the report of each arm against the control, overall and per subgroup.
import fs from 'node:fs';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import type { Db } from '../db/connection.ts';
import { readCsv, type Encoding } from '../imports/csv-source.ts';
import { AppError } from '../shared/errors.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { insertCampaign, updateCampaign, type CampaignRow } from './campaign.repository.ts';
import type { Arm } from './campaign.schema.ts';
import { findCampaign } from './campaign.service.ts';
import { controlArm, type CampaignChannel, type CampaignKind } from './campaign.ts';
import {
  experimentShape,
  experimentSums,
  findExperimentId,
  insertExperimentChunk,
  lockCampaign,
  type ExperimentRow,
} from './experiment.repository.ts';
import {
  cochranQ,
  compareExperiment,
  experimentOutcomes,
  uploadingReason,
  yesNo,
  type ArmSums,
  type experimentBody,
  type ExperimentReport,
  type MemberPage,
} from './experiment.ts';

const chunkSize = 10_000;
const maxArms = 20;
const fields = ['customer', 'arm', 'at', 'converted', 'revenue', 'engaged'] as const;
type Field = (typeof fields)[number];
type Issue = { path: string; message: string };
type Problem = (row: number, field: Field, message: string) => void;

/** A member as either door hands it over: each value as written, '' when not given. */
type MemberText = Record<Exclude<Field, 'customer'>, string> & { externalId: string; email: string };

/** One upload as it goes: where its members come from, the holdout's name as they spell it, every arm seen. */
interface Upload {
  campaignId: number;
  name: string;
  source: 'file' | 'page';
  control: string;
  /** Arm names so far, the holdout as `control`. */
  arms: Set<string>;
  now: Date;
  /** How a problem's place is named: `row 12, group` in a file, `members.3.arm` in a page. */
  where: (row: number, field: Field) => string;
}

/** The problems of a file or a page: the first 50 named, all counted. */
function problemList(upload: Upload) {
  const issues: Issue[] = [];
  let count = 0;
  const add: Problem = (row, field, message) => {
    if (issues.length < 50) issues.push({ path: upload.where(row, field), message });
    count++;
  };
  /** Refuses the whole file or page when anything in it was wrong. */
  const refuseAny = (nothing: string) => {
    if (count > 0)
      throw new AppError(
        'validation_failed',
        `${count.toLocaleString('en')} problem${count === 1 ? '' : 's'} in the ${upload.source}; ${nothing}`,
        { issues },
      );
  };
  return { add, refuseAny };
}

/** The one check of a member, whichever door it came by: the row to write, or undefined with each problem reported. */
function readMember(upload: Upload, m: MemberText, row: number, problem: Problem): ExperimentRow | undefined {
  let valid = true;
  const fail = (field: Field, message: string) => {
    valid = false;
    problem(row, field, message);
  };
  const externalId = m.externalId.normalize('NFC').trim();
  const email = m.email.normalize('NFC').trim().toLowerCase();
  const given = m.arm.trim();
  if (!externalId && !email) fail('customer', 'empty: expected an external id or an email');
  if (!given) fail('arm', 'empty: expected the arm the customer was in');
  const isControl = given.toLowerCase() === upload.control.toLowerCase();
  // The holdout is stored as `control`: another arm of that name would be mistaken for it.
  if (!isControl && given.toLowerCase() === controlArm)
    fail(
      'arm',
      `"${given}" is the name Kept keeps for the control arm, which this experiment calls "${upload.control}"`,
    );
  if (given.length > 40) fail('arm', 'longer than 40 characters');
  const arm = isControl ? controlArm : given;
  if (given && !upload.arms.has(arm)) {
    upload.arms.add(arm);
    if (upload.arms.size > maxArms)
      throw new AppError(
        'validation_failed',
        `More than ${maxArms} arms in the ${upload.source === 'file' ? 'file: is arm the right column?' : 'experiment'}`,
        { issues: [{ path: upload.where(row, 'arm'), message: `"${given}" would be arm ${maxArms + 1}` }] },
      );
  }
  const when = m.at.trim();
  const at = when ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(when) ? `${when}T00:00:00Z` : when) : null;
  if (at && Number.isNaN(at.getTime()))
    fail('at', `${JSON.stringify(when)}: expected a date like 2026-11-02 or 2026-11-02T09:30:00Z`);
  const flag = (field: 'converted' | 'engaged') => {
    const v = m[field].trim();
    if (v === '') return null;
    const b = yesNo(v);
    if (b === undefined) fail(field, `${JSON.stringify(v)}: expected 1 or 0 (true/false, yes/no)`);
    return b ?? null;
  };
  const converted = flag('converted');
  const engaged = flag('engaged');
  const money = m.revenue.trim();
  // numeric(14, 2): at most 12 digits before the point.
  if (money !== '' && !/^-?\d{1,12}(\.\d{1,2})?$/.test(money))
    fail('revenue', `${JSON.stringify(money)}: expected an amount like 12.50`);
  if (!valid) return undefined;
  return {
    row,
    externalId: externalId || null,
    email: email || null,
    arm,
    at: at ? at.toISOString() : null,
    converted,
    revenue: money === '' ? null : money,
    engaged,
  };
}

/**
 * Writes one chunk and reports every customer not known or twice in it; a customer already in the
 * experiment is a problem in a file (in it twice) and in a page only when something differs, so a
 * page sent again changes nothing. Returns how many members were added and how many found unchanged.
 */
async function writeMembers(db: Db, upload: Upload, rows: ExperimentRow[], problem: Problem) {
  let [added, unchanged] = [0, 0];
  if (rows.length === 0) return { added, unchanged };
  const byRow = new Map(rows.map((r) => [r.row, r]));
  for (const { row, outcome } of await insertExperimentChunk(db, upload.campaignId, rows, upload.now)) {
    const member = byRow.get(row)!;
    const customer = JSON.stringify(member.externalId ?? member.email);
    if (outcome === 'added') added++;
    else if (outcome === 'unknown') problem(row, 'customer', `no customer ${customer}`);
    else if (outcome === 'twice' || upload.source === 'file')
      problem(row, 'customer', `customer ${customer} is in the ${upload.source} twice`);
    else if (outcome === 'same') unchanged++;
    else
      problem(
        row,
        'customer',
        `customer ${customer} is already in the experiment with another arm, send time or outcome; a member sent again must be identical`,
      );
  }
  return { added, unchanged };
}

/**
 * Closes an upload once its members make an experiment (members in the control arm and in at least
 * one other): the arms, the holdout's share, the first send and the time it finished.
 */
async function finishUpload(db: Db, upload: Upload, advice: string) {
  const shape = await experimentShape(db, upload.campaignId);
  const arms = shape.arms ?? {};
  const members = Object.values(arms).reduce((a, b) => a + b, 0);
  const refuse = (message: string): never => {
    throw new AppError('validation_failed', `${message}; ${advice}`, {
      issues: [{ path: upload.source === 'file' ? 'file' : 'members', message }],
    });
  };
  if (members === 0) refuse(`The ${upload.source === 'file' ? 'file has' : 'experiment has'} no members`);
  if (!arms[controlArm])
    refuse(
      `No member is in the control arm "${upload.control}"${upload.source === 'file' ? ': name it with --control' : ''}`,
    );
  if (Object.keys(arms).length < 2) refuse(`No member is in an arm other than the control "${upload.control}"`);
  await updateCampaign(db, upload.campaignId, {
    arms: Object.keys(arms)
      .filter((a) => a !== controlArm)
      .map((name) => ({ name, templateId: null, share: 1 })),
    holdoutShare: arms[controlArm] / members,
    members,
    startedAt: shape.first ? new Date(shape.first) : upload.now,
    finishedAt: upload.now,
    statusReason: null,
  });
  return { members, arms };
}

// --- the CSV door

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

/** Imports the file as one external campaign, or nothing: every problem is reported with its row and column. */
export async function importExperiment(
  deps: Deps,
  principal: Principal,
  input: ExperimentImport,
  onProgress?: ProgressReporter,
): Promise<{ id: number; members: number; arms: Record<string, number> }> {
  for (const key of Object.keys(input.map))
    if (!(fields as readonly string[]).includes(key))
      throw new AppError('validation_failed', `--map: no target "${key}"; the targets are ${fields.join(', ')}`);
  const size = fs.statSync(input.file).size;
  const csv = await readCsv(input.file, {
    encoding: input.encoding ?? 'utf-8',
    onBytes: (bytes) => onProgress?.(bytes, size),
  });
  const index = {} as Record<Field, number>;
  for (const field of fields) {
    const name = input.map[field] ?? field;
    const at = csv.header.findIndex((h) => h.trim() === name);
    if (at < 0 && (field === 'customer' || field === 'arm' || input.map[field]))
      throw new AppError(
        'validation_failed',
        `The file has no column "${name}" for ${field}; its columns are ${csv.header.join(', ')}`,
      );
    index[field] = at;
  }
  const now = deps.clock.now();
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
    const upload: Upload = {
      campaignId: id,
      name: input.name,
      source: 'file',
      control: input.control ?? controlArm,
      arms: new Set(),
      now,
      where: (row, field) => `row ${row}, ${input.map[field] ?? field}`,
    };
    const problems = problemList(upload);
    let chunk: ExperimentRow[] = [];
    for await (const record of csv.records) {
      const cell = (field: Field) => (index[field] >= 0 ? (record.values[index[field]] ?? '') : '');
      const customer = cell('customer').trim();
      // A row with a bad value is not written; the others still are, so every unknown customer is found.
      const member = readMember(
        upload,
        {
          externalId: customer,
          email: customer.includes('@') ? customer : '',
          arm: cell('arm'),
          at: cell('at'),
          converted: cell('converted'),
          revenue: cell('revenue'),
          engaged: cell('engaged'),
        },
        record.row,
        problems.add,
      );
      if (member) chunk.push(member);
      if (chunk.length >= chunkSize) {
        await writeMembers(tx, upload, chunk, problems.add);
        chunk = [];
      }
    }
    await writeMembers(tx, upload, chunk, problems.add);
    problems.refuseAny('nothing was imported');
    const { members, arms } = await finishUpload(tx, upload, 'nothing was imported');
    return { id, members, arms };
  });
}

// --- the API door: created, a page at a time, finished

type UploadState = { id: number; name: string; state: 'uploading' | 'finished'; control: string; members: number };

// While uploading, the holdout's name as the pages spell it is kept as an arm of share 0 (a real
// arm's share is positive), so no column is needed for it; finishing leaves the treated arms only.
const controlOf = (arms: Arm[]) => arms.find((a) => a.share === 0)?.name ?? controlArm;

/** The campaign as an upload still taking pages; 404 when there is none, 409 when it is finished or not an upload. */
function openUpload(row: CampaignRow | undefined, id: number, now: Date): Upload {
  if (!row) throw new AppError('not_found', `No campaign ${id}`);
  if (row.status !== 'external')
    throw new AppError(
      'conflict',
      `Campaign #${id} "${row.name}" is ${row.status}, not an experiment being uploaded: create one with POST /api/v1/campaigns/experiments`,
    );
  if (row.finishedAt !== null)
    throw new AppError(
      'conflict',
      `Campaign #${id} "${row.name}" was finished at ${row.finishedAt.toISOString()} with ${row.members ?? 0} members; no more members can be added (create a new experiment instead)`,
    );
  return {
    campaignId: id,
    name: row.name,
    source: 'page',
    control: controlOf(row.arms),
    arms: new Set(row.arms.map((a) => (a.share === 0 ? controlArm : a.name))),
    now,
    where: (index, field) => `members.${index}.${field}`,
  };
}

/** A campaign run elsewhere, to be filled by pages of members and finished; reported only once finished. */
export async function createExperiment(
  deps: Deps,
  principal: Principal,
  body: z.infer<typeof experimentBody>,
): Promise<UploadState> {
  const id = await insertCampaign(deps.db, {
    name: body.name,
    kind: body.kind,
    channel: body.channel,
    segmentId: null,
    arms: [{ name: body.control, templateId: null, share: 0 }],
    holdoutShare: 0,
    consentList: 'marketing',
    timeZone: deps.config.timeZone,
    status: 'external',
    statusReason: uploadingReason,
    external: body.description ?? 'uploaded through the API',
    createdBy: principalName(principal),
    createdAt: deps.clock.now(),
    members: 0,
  });
  return { id, name: body.name, state: 'uploading', control: body.control, members: 0 };
}

/**
 * One page of members, all or nothing: each checked and its customer matched as a CSV import's row;
 * a member already in the experiment exactly as sent is left as it is.
 */
export async function addExperimentMembers(deps: Deps, id: number, page: MemberPage) {
  return deps.db.transaction(async (tx) => {
    const row = await lockCampaign(tx, id);
    const upload = openUpload(row, id, deps.clock.now());
    const problems = problemList(upload);
    const text = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? '' : String(v));
    const rows = page.members.flatMap(
      (m, i) =>
        readMember(
          upload,
          {
            externalId: text(m.customer.externalId),
            email: text(m.customer.email),
            arm: m.arm,
            at: text(m.at),
            converted: text(m.converted),
            revenue: text(m.revenue),
            engaged: text(m.engaged),
          },
          i,
          problems.add,
        ) ?? [],
    );
    const { added, unchanged } = await writeMembers(tx, upload, rows, problems.add);
    problems.refuseAny('nothing from it was stored');
    const members = (row!.members ?? 0) + added;
    await updateCampaign(tx, id, {
      arms: [
        { name: upload.control, templateId: null, share: 0 },
        ...[...upload.arms].filter((a) => a !== controlArm).map((name) => ({ name, templateId: null, share: 1 })),
      ],
      members,
    });
    return {
      id,
      name: upload.name,
      state: 'uploading' as const,
      control: upload.control,
      members,
      added,
      unchanged,
    };
  });
}

/** Ends the upload: the members must hold a control arm and another; then it is reported and takes no more pages. */
export async function finishExperiment(deps: Deps, id: number) {
  return deps.db.transaction(async (tx) => {
    const upload = openUpload(await lockCampaign(tx, id), id, deps.clock.now());
    const { members, arms } = await finishUpload(
      tx,
      upload,
      `add them with POST /api/v1/campaigns/${id}/members first`,
    );
    return { id, name: upload.name, state: 'finished' as const, control: upload.control, members, arms };
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
  if (campaign.status === 'external' && campaign.finishedAt === null)
    throw new AppError(
      'conflict',
      `Campaign #${id} "${campaign.name}" is still being uploaded (${(campaign.members ?? 0).toLocaleString('en')} members so far): it is reported once POST /api/v1/campaigns/${id}/members/done finishes it`,
    );
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
