import { suppressingFlags } from './flags.ts';

/** Lifecycle stages; the predictive ones (best, at_risk, lapsed, won_back) are set by analytics. */
export const stages = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'] as const;
export type Stage = (typeof stages)[number];
export const predictiveStages: readonly Stage[] = ['best', 'at_risk', 'lapsed', 'won_back'];
/** Flags that put the customer in `suppressed` (deceased, do-not-contact), as flags.ts defines them. */
export { suppressingFlags };

export interface LifecycleFacts {
  stage: Stage;
  flags: string[];
  /** Purchase days already reflected in `stage` (before the new data). */
  previousOrderDays: number;
  orderDays: number;
  firstOrderAt: Date | null;
  firstOrderId: string | null;
  secondDayAt: Date | null;
  secondDayOrderId: string | null;
  lastOrderAt: Date | null;
  lastOrderId: string | null;
  /** When and why the flags last changed, for a suppression transition. */
  flagChange?: { at: Date; cause: string };
}

export interface Transition {
  from: Stage;
  to: Stage;
  at: Date;
  cause: string;
}

/** The stage purchases alone give: no purchase, one purchase day, two or more. */
export function purchaseStage(orderDays: number): Stage {
  return orderDays === 0 ? 'prospect' : orderDays === 1 ? 'trial' : 'customer';
}

/**
 * Every transition the new facts imply, in time order, each with when it happened (the order or
 * flag change that caused it) and why, in words. A customer imported with a year of history gets
 * prospect -> trial at the first order and trial -> customer at the second purchase day.
 */
export function lifecycleTransitions(facts: LifecycleFacts): Transition[] {
  const transitions: Transition[] = [];
  let stage = facts.stage;
  const move = (to: Stage, at: Date, cause: string) => {
    if (to !== stage) transitions.push({ from: stage, to, at, cause });
    stage = to;
  };
  const suppressed = facts.flags.some((flag) => (suppressingFlags as readonly string[]).includes(flag));
  if (suppressed) {
    if (stage !== 'suppressed')
      move(
        'suppressed',
        facts.flagChange?.at ?? new Date(),
        facts.flagChange?.cause ?? `flagged ${facts.flags.join(', ')}`,
      );
    return transitions;
  }
  if (stage === 'suppressed') {
    move(
      purchaseStage(facts.orderDays),
      facts.flagChange?.at ?? new Date(),
      facts.flagChange?.cause ?? 'suppressing flag cleared',
    );
    return transitions;
  }
  if (facts.orderDays <= facts.previousOrderDays) return transitions;
  if (facts.previousOrderDays === 0 && facts.firstOrderAt) {
    move('trial', facts.firstOrderAt, `first purchase (order ${facts.firstOrderId})`);
  }
  if (facts.previousOrderDays < 2 && facts.orderDays >= 2 && facts.secondDayAt) {
    move(
      stage === 'lapsed' ? 'won_back' : 'customer',
      facts.secondDayAt,
      `second purchase day (order ${facts.secondDayOrderId}): a true customer`,
    );
  } else if (facts.previousOrderDays >= 2 && facts.lastOrderAt) {
    if (stage === 'lapsed')
      move('won_back', facts.lastOrderAt, `bought again after lapsing (order ${facts.lastOrderId})`);
    else if (stage === 'at_risk')
      move('customer', facts.lastOrderAt, `ordered again (order ${facts.lastOrderId}): activity resumed`);
    else if (stage === 'trial' || stage === 'prospect')
      move('customer', facts.lastOrderAt, `purchase day ${facts.orderDays}`);
  }
  return transitions;
}
