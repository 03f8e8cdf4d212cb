// The satisfaction index: what a customer went through (survey answers, how tickets ended,
// returns, incidents, how they felt when an agent talked to them), weighted by how much each
// predicts buying again. Pure functions: the fit, the index and the AUC; and what the API answers.
import { z } from '@hono/zod-openapi';

/** The inputs, each 0 when the customer had nothing of the kind in the window. */
export const inputs = ['survey', 'ticketsResolved', 'ticketsFailed', 'returns', 'incidents', 'feeling'] as const;
export type Input = (typeof inputs)[number];
export type Features = Record<Input, number>;

export const inputLabels: Record<Input, string> = {
  survey: 'survey answers (mean score, 0 = middle of the scale)',
  ticketsResolved: 'tickets resolved (replaced, refunded, fixed), per order',
  ticketsFailed: 'tickets that ended badly or are still open after a week, per order',
  returns: 'returns, per order',
  incidents: 'incidents (wrong item, damaged, late, stuck in the portal), per order',
  feeling: 'how the customer felt with an agent (-1 very upset .. 1 delighted)',
};

export interface SatisfactionModel {
  /** Weight of each input in the index. */
  weights: Features;
  /** Fitted alongside, not part of the index: the base rate of buying again. */
  intercept: number;
}

/** 0-100: 50 for a customer with nothing to go by, above for good experiences, below for bad. */
export function satisfactionIndex(model: SatisfactionModel, x: Features): number {
  const z = inputs.reduce((sum, input) => sum + model.weights[input] * x[input], 0);
  return 100 / (1 + Math.exp(-z));
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Solves A·x = b for a small symmetric positive definite A (Cholesky). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / l[j][j];
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) y[i] = (b[i] - l[i].slice(0, i).reduce((s, v, k) => s + v * y[k], 0)) / l[i][i];
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k][i] * x[k];
    x[i] = sum / l[i][i];
  }
  return x;
}

/** Which way each input may push the index: a good experience never lowers it, a bad one never raises it. */
export const directions: Record<Input, 1 | -1> = {
  survey: 1,
  ticketsResolved: 1,
  feeling: 1,
  ticketsFailed: -1,
  returns: -1,
  incidents: -1,
};

/** Logistic regression on the given inputs by Newton's method, ridge λ on all but the intercept. */
function logistic(rows: { x: Features; bought: boolean }[], free: Input[], lambda: number): number[] {
  const p = free.length + 1;
  const vector = (x: Features) => [1, ...free.map((i) => x[i])];
  let beta = new Array<number>(p).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = beta.map((b, j) => (j === 0 ? 0 : -lambda * b));
    const hessian = beta.map((_, j) => beta.map((__, k) => (j === k && j > 0 ? lambda : 0)));
    for (const r of rows) {
      const v = vector(r.x);
      const mu = sigmoid(v.reduce((s, vj, j) => s + vj * beta[j], 0));
      const w = Math.max(mu * (1 - mu), 1e-9);
      for (let j = 0; j < p; j++) {
        gradient[j] += (Number(r.bought) - mu) * v[j];
        for (let k = 0; k <= j; k++) hessian[j][k] += w * v[j] * v[k];
      }
    }
    for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) hessian[j][k] = hessian[k][j];
    const step = solve(hessian, gradient);
    beta = beta.map((b, j) => b + step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return beta;
}

/**
 * Logistic regression of "bought again in the next period" on the inputs (counts are per order,
 * so a customer who orders more does not look happier or unhappier for it), with a light ridge
 * penalty (λ = 10). Each weight keeps its input's direction: when the data gives an input the
 * other sign (an artefact of inputs that travel together), the input is set to 0 and the rest
 * refitted, the worst first.
 */
export function fitSatisfaction(
  rows: { x: Features; bought: boolean }[],
  lambda = 10,
): SatisfactionModel & { dropped: Input[] } {
  let free = [...inputs];
  for (;;) {
    const beta = logistic(rows, free, lambda);
    const wrong = free
      .map((input, i) => ({ input, violation: -directions[input] * beta[i + 1] }))
      .filter((v) => v.violation > 0)
      .sort((a, b) => b.violation - a.violation);
    if (wrong.length === 0) {
      const weights = Object.fromEntries(
        inputs.map((input) => [input, free.includes(input) ? beta[free.indexOf(input) + 1] : 0]),
      ) as Features;
      return { intercept: beta[0], weights, dropped: inputs.filter((input) => !free.includes(input)) };
    }
    free = free.filter((input) => input !== wrong[0].input);
  }
}

/** Area under the ROC curve: the chance a random buyer scores above a random non-buyer (ties half). */
export function auc(scores: number[], labels: boolean[]): number {
  const order = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let positives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++)
      if (labels[order[k]]) {
        rankSum += rank;
        positives++;
      }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

// --- what the API answers

/** The index as fitted by the latest analysis, with how well it predicts on held-out customers. */
export const satisfactionFitSchema = z.object({
  /** Weight of each input in the index. */
  weights: z.record(z.enum(inputs), z.number()),
  /** Fitted alongside, not part of the index: the base rate of buying again. */
  intercept: z.number(),
  /** The last month end of the snapshots the weights were fitted on. */
  fittedAt: z.string(),
  /**
   * Cross-validated: the mean over 5 folds of customers of the AUC of the index with weights fitted
   * on the other folds, and of each single input in its documented direction, over snapshots from
   * `from` to `to`.
   */
  validation: z.object({
    from: z.string(),
    to: z.string(),
    snapshots: z.number(),
    customers: z.number(),
    buyers: z.number(),
    auc: z.record(z.enum(['index', ...inputs]), z.number()),
  }),
});
export type SatisfactionFit = z.infer<typeof satisfactionFitSchema>;

const tally = z.record(z.string(), z.object({ customers: z.number(), satisfied: z.number(), meanIndex: z.number() }));
export const satisfactionSchema = z.object({
  model: satisfactionFitSchema.nullable(),
  inputs: z.record(z.string(), z.string()),
  satisfiedFrom: z.number(),
  byMonth: z.array(
    z.object({
      month: z.string(),
      customers: z.number(),
      satisfied: z.number(),
      byChannel: tally,
      byStage: tally,
      byAgent: tally,
    }),
  ),
});
export type Satisfaction = z.infer<typeof satisfactionSchema>;
export type SatisfiedMonth = Satisfaction['byMonth'][number];

export const satisfactionPointsSchema = z.object({
  points: z.array(z.object({ month: z.string(), index: z.number().nullable() })),
});
export type SatisfactionPoints = z.infer<typeof satisfactionPointsSchema>;
