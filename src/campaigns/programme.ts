// The marketing programme as a whole: the universal control group (customers no marketing
// programme ever touches) and what keeps each programme's holdout clean. Pure.
import { createHash } from 'node:crypto';

/**
 * The universal control group is a fixed hash of the customer's id: md5 of
 * `kept-universal-control:<id>`, its first 32 bits modulo 10,000, below share × 10,000. Drawn once
 * (nothing is stored, nothing redrawn), the same in every process and in SQL
 * (programme.repository.ts), independent of the worklist's holdout, and nested: raising the share
 * keeps everyone already in.
 */
export const universalControlLabel = 'kept-universal-control:';
export const universalControlBucket = (customerId: number) =>
  Number.parseInt(createHash('md5').update(`${universalControlLabel}${customerId}`).digest('hex').slice(0, 8), 16) %
  10_000;
export const inUniversalControl = (customerId: number, share: number) =>
  share > 0 && universalControlBucket(customerId) < Math.round(share * 10_000);

/** Why a marketing programme leaves a customer alone now. */
export type HoldKind = 'universal_control' | 'held_out_elsewhere' | 'open_problem';
export interface Hold {
  kind: HoldKind;
  /** In words, for the ledger and the preview: "held out of journey "Win-back" until 2026-12-30". */
  reason: string;
}
export const holdWords: Record<HoldKind, string> = {
  universal_control: 'universal control group',
  held_out_elsewhere: 'held out of another programme',
  open_problem: 'open problem',
};
