// The CDNOW sample as the published analyses prepare it (../shared/reference/clv.md §0): purchase
// days per customer, calibration to 1997-09-30, in weeks or days; customers numbered by sampleid, as
// in the published summaries. For the model tests only.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HistoryGroup, SpendHistory } from './models.ts';

const file = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test',
  'fixtures',
  'cdnow',
  'cdnowElog.csv',
);
const dayOf = (yyyymmdd: string) =>
  Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8))) / 86_400_000;

export interface CdnowCustomer {
  id: number;
  x: number;
  tx: number;
  T: number;
  zbar: number;
  holdout: number;
}

export function cdnowCustomers(unitDays = 7): CdnowCustomer[] {
  const asOf = dayOf('19970930');
  const days = new Map<number, Map<number, number>>();
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [, id, date, , sales] = line.split(',');
    const byDay = days.get(Number(id)) ?? new Map<number, number>();
    byDay.set(dayOf(date), (byDay.get(dayOf(date)) ?? 0) + Number(sales));
    days.set(Number(id), byDay);
  }
  return [...days.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, byDay]) => {
      const sorted = [...byDay.entries()].sort(([a], [b]) => a - b);
      const calibration = sorted.filter(([d]) => d <= asOf);
      const first = calibration[0][0];
      const repeats = calibration.slice(1);
      return {
        id,
        x: repeats.length,
        tx: (calibration.at(-1)![0] - first) / unitDays,
        T: (asOf - first) / unitDays,
        zbar: repeats.length ? repeats.reduce((s, [, v]) => s + v, 0) / repeats.length : 0,
        holdout: sorted.length - calibration.length,
      };
    });
}

export function grouped(customers: CdnowCustomer[]): HistoryGroup[] {
  const groups = new Map<string, HistoryGroup>();
  for (const c of customers) {
    const key = `${c.x}|${c.tx}|${c.T}`;
    const group = groups.get(key) ?? { x: c.x, tx: c.tx, T: c.T, count: 0 };
    group.count++;
    groups.set(key, group);
  }
  return [...groups.values()];
}

export const spends = (customers: CdnowCustomer[]): SpendHistory[] =>
  customers.filter((c) => c.x > 0).map((c) => ({ x: c.x, zbar: c.zbar }));
