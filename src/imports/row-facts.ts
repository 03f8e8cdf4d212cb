// The rows of a file as the facts they state (src/facts), once their customers are known: rows
// without an id of their own are numbered per customer in file order, order lines are gathered
// into their orders, and a credit note (a negative line) is a return.
import type { Db } from '../db/connection.ts';
import type { FactData, ResolvedFact } from '../facts/index.ts';
import { isNegativeDecimal, negateDecimal } from '../shared/decimal.ts';
import { nextOrdinals } from './import.repository.ts';
import type { Row } from './import.rows.ts';

/** A row whose customer is known; `index` is its place in the chunk. */
export interface ResolvedRow {
  item: { index: number; row: Row };
  customerId: number;
}
type RowOf<Kind extends Row['kind']> = ResolvedRow & { item: { row: Extract<Row, { kind: Kind }> } };

export interface RowContext {
  importId: number;
  /** The file maps an order column: a credit note names its order. */
  hasOrderColumn: boolean;
  /** When an imported address starts. */
  now: () => Date;
}

const negated = (value: string) => (isNegativeDecimal(value) ? negateDecimal(value) : value);

/** The facts of a chunk's rows, in the order the pipeline writes them within each kind. */
export async function factsOfRows(db: Db, rows: ResolvedRow[], context: RowContext): Promise<ResolvedFact[]> {
  const of = <Kind extends Row['kind']>(kind: Kind) => rows.filter((p): p is RowOf<Kind> => p.item.row.kind === kind);
  // The occurrence of each key per customer in file order, continuing from earlier chunks of the same import.
  const ordinals = <T extends ResolvedRow>(list: T[], key: (item: T) => string) =>
    nextOrdinals(
      db,
      context.importId,
      list.map((item) => `${item.customerId}|${key(item)}`),
    );
  const facts: ResolvedFact[] = [];

  const orderRows = of('order');
  const credits = new Set(
    orderRows.filter(({ item: { row } }) => isNegativeDecimal(row.quantity) || isNegativeDecimal(row.amount)),
  );
  const lines = orderRows.filter((p) => !credits.has(p));
  const lineNos = await ordinals(lines, ({ item: { row } }) => `o:${row.orderId}`);
  const orders = new Map<string, ResolvedFact<'order'>>();
  lines.forEach(({ item: { index, row }, customerId }, i) => {
    const key = `${customerId}|${row.orderId}`;
    // The order's first row gives its time, channel and currency.
    const order = orders.get(key) ?? {
      kind: 'order',
      index,
      customerId,
      data: {
        externalId: row.orderId,
        orderedAt: row.at,
        channel: row.channel,
        currency: row.currency,
        lines: [],
      },
    };
    order.data.lines.push({
      lineNo: lineNos[i],
      product: row.product,
      category: row.category,
      quantity: row.quantity,
      unitPrice: row.unitPrice,
      amount: row.amount,
    });
    orders.set(key, order);
  });
  facts.push(...orders.values());
  const creditRows = [...credits];
  const creditNos = await ordinals(creditRows, ({ item: { row } }) => `c:${row.orderId}`);
  creditRows.forEach(({ item: { index, row }, customerId }, i) =>
    facts.push({
      kind: 'return',
      index,
      customerId,
      data: {
        externalId: `${row.orderId}#credit-${creditNos[i]}`,
        orderExternalId: context.hasOrderColumn ? row.orderId : null,
        returnedAt: row.at,
        product: row.product,
        quantity: negated(row.quantity),
        amount: negated(row.amount),
        reasonCode: 'credit_note',
        reason: null,
      },
    }),
  );

  const returns = of('return');
  const returnNos = await ordinals(
    returns,
    ({ item: { row } }) => `r:${row.returnId ?? `${row.at.toISOString()}|${row.product}|${row.amount}`}`,
  );
  returns.forEach(({ item: { index, row }, customerId }, i) =>
    facts.push({
      kind: 'return',
      index,
      customerId,
      data: {
        externalId: row.returnId ?? `${row.at.toISOString()}|${row.product ?? ''}|${row.amount}#${returnNos[i]}`,
        orderExternalId: row.orderId,
        returnedAt: row.at,
        product: row.product,
        quantity: row.quantity,
        amount: row.amount,
        reasonCode: row.reasonCode,
        reason: row.reason,
      },
    }),
  );

  const touchpoints = of('touchpoint');
  const touchNos = await ordinals(
    touchpoints.filter(({ item: { row } }) => !row.id),
    ({ item: { row } }) => `t:${row.at.toISOString()}|${row.channel}|${row.touch}`,
  );
  let touch = 0;
  touchpoints.forEach(({ item: { index, row }, customerId }) =>
    facts.push({
      kind: 'touchpoint',
      index,
      customerId,
      data: {
        externalId: row.id ?? `${row.at.toISOString()}|${row.channel}|${row.touch}#${touchNos[touch++]}`,
        at: row.at,
        channel: row.channel,
        direction: row.direction,
        kind: row.touch,
        campaign: row.campaign,
        detail: null,
      },
    }),
  );

  of('ticket').forEach(({ item: { index, row }, customerId }) =>
    facts.push({
      kind: 'ticket',
      index,
      customerId,
      data: {
        externalId: row.ticketId,
        openedAt: row.openedAt,
        channel: row.channel,
        category: row.category,
        priority: row.priority,
        status: row.status,
        subject: row.subject,
        orderExternalId: row.orderId,
        assignee: null,
        resolvedAt: row.resolvedAt,
        outcome: row.outcome,
      },
    }),
  );

  const answers = of('survey');
  const answerNos = await ordinals(
    answers.filter(({ item: { row } }) => !row.id),
    ({ item: { row } }) => `s:${row.at.toISOString()}|${row.survey}|${row.question}`,
  );
  let answer = 0;
  answers.forEach(({ item: { index, row }, customerId }) =>
    facts.push({
      kind: 'surveyResponse',
      index,
      customerId,
      data: {
        externalId: row.id ?? `${row.at.toISOString()}|${row.survey}|${row.question}#${answerNos[answer++]}`,
        at: row.at,
        survey: row.survey,
        question: row.question,
        score: row.score,
        answer: row.answer,
        channel: row.channel,
      },
    }),
  );

  // One row is one subscription as it stands: its start, and its last renewal and cancellation when given.
  of('subscription').forEach(({ item: { index, row }, customerId }) => {
    const event = { subscriptionId: row.subscriptionId, plan: null, price: null, currency: null, period: null };
    const none = { reasonCode: null, reason: null };
    const { plan, price, currency, period, reasonCode, reason } = row;
    const data: FactData['subscription'][] = [
      { ...event, ...none, change: 'started', at: row.startedAt, plan, price, currency, period },
    ];
    if (row.renewedAt) data.push({ ...event, ...none, change: 'renewed', at: row.renewedAt });
    if (row.cancelledAt) data.push({ ...event, change: 'cancelled', at: row.cancelledAt, reasonCode, reason });
    for (const fact of data) facts.push({ kind: 'subscription', index, customerId, data: fact });
  });

  // A provider's file sets flags; when it does not say when, now.
  of('flag').forEach(({ item: { index, row }, customerId }) =>
    facts.push({
      kind: 'status',
      index,
      customerId,
      data: {
        flag: row.flag,
        active: true,
        at: row.at ?? context.now(),
        note: row.reason,
        origin: `import ${context.importId}`,
      },
    }),
  );

  of('customer').forEach(({ item: { index, row }, customerId }) =>
    facts.push({
      kind: 'profile',
      index,
      customerId,
      data: {
        name: row.name ?? undefined,
        createdAt: row.createdAt ?? undefined,
        acquisitionChannel: row.acquisitionChannel ?? undefined,
        attributes: row.attributes,
        address: row.address ? { kind: 'postal' as const, ...row.address, at: context.now() } : undefined,
      },
    }),
  );
  return facts;
}
