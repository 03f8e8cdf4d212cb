// What validates, stores (issue 16): events generated at the edges of what the schema accepts
// (longest texts in any script, the largest and smallest amounts and quantities, the first and last
// instants, numbers of any size in attributes and details, nested details) are all accepted and
// read back exactly as sent. Values the schema accepted used to fail in a column instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { addDecimal } from '../shared/decimal.ts';
import { textProblem } from '../shared/input.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

const seed = Number(process.env.KEPT_FUZZ_SEED ?? 20261204);
/** Text the schema takes: any graphemes (astral, combining, right-to-left), no NUL, not only spaces. */
const text = (max: number) =>
  fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 40) }),
      fc.constantFrom(
        'x'.repeat(max),
        `${'é'.repeat(max - 1)}z`,
        '👩‍👩‍👧'.repeat(Math.floor(max / 8)) || 'x',
        'ǅ\u202eabc',
        "O'Brien; DROP TABLE x",
        '=1+1',
      ),
    )
    .map((s) => s.replace(/\u0000/g, '').slice(0, max))
    .filter((s) => s.trim().length > 0 && s.length <= max && textProblem(s) === undefined);
const cents = (digits: number, places: number, min = 0n) =>
  fc.bigInt(min, 10n ** BigInt(digits + places) - 1n).map((n) => {
    const s = n.toString().padStart(places + 1, '0');
    return `${s.slice(0, -places)}.${s.slice(-places)}`;
  });
const money = fc.oneof(
  cents(12, 2),
  fc.constantFrom('0.00', '999999999999.99', '0.01'),
  fc.integer({ min: 0, max: 1_000_000 }).map(String),
);
const quantity = fc.oneof(cents(11, 3, 1n), fc.constantFrom('99999999999.999', '0.001', '1'));
const instant = fc
  .date({ min: new Date('1900-01-01T00:00:00.000Z'), max: new Date('2999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const detail = fc.dictionary(
  text(20),
  fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text(50),
    fc.boolean(),
    fc.constant(null),
    fc.dictionary(text(10), fc.array(fc.integer(), { maxLength: 3 }), { maxKeys: 2 }),
  ),
  { maxKeys: 4 },
);

const same = (a: string, b: string) => addDecimal(a, '0', 3) === addDecimal(b, '0', 3);

test('generated events at the edges of the schema are all accepted and read back exactly', async () => {
  let n = 0;
  const batch = fc.record({
    name: text(300),
    currency: fc.stringMatching(/^[A-Z]{3}$/),
    at: instant,
    lines: fc.array(fc.record({ product: text(200), category: text(100), quantity, amount: money }), {
      minLength: 1,
      maxLength: 3,
    }),
    returnAmount: money,
    returnQuantity: quantity,
    body: text(10_000),
    kind: text(60),
    detail,
    score: fc.integer({ min: -100_000, max: 100_000 }).map((c) => c / 100),
    attribute: fc.double({ noNaN: true, noDefaultInfinity: true }),
    reason: text(2000),
  });
  const runs = fc.sample(batch, { seed, numRuns: 40 });
  for (const value of runs) {
    n++;
    const who = { externalId: `G-${n}` };
    const events = [
      {
        id: `g${n}-c`,
        type: 'customer.upsert',
        customer: who,
        name: value.name,
        attributes: { size: value.attribute },
      },
      {
        id: `g${n}-o`,
        type: 'order',
        customer: who,
        orderId: `GO-${n}`,
        at: value.at,
        currency: value.currency,
        lines: value.lines,
      },
      {
        id: `g${n}-r`,
        type: 'return',
        customer: who,
        returnId: `GR-${n}`,
        at: value.at,
        amount: value.returnAmount,
        quantity: value.returnQuantity,
        reason: value.reason,
      },
      { id: `g${n}-n`, type: 'note', customer: who, at: value.at, body: value.body },
      {
        id: `g${n}-t`,
        type: 'touchpoint',
        customer: who,
        at: value.at,
        channel: 'web',
        direction: 'in',
        kind: value.kind,
        detail: value.detail,
      },
      {
        id: `g${n}-s`,
        type: 'survey.response',
        customer: who,
        at: value.at,
        survey: 'nps',
        question: 'Q',
        score: value.score,
      },
    ];
    const response = await t.call('POST', '/api/v1/events', { events });
    const answer = await response.json();
    assert.equal(
      answer.accepted,
      events.length,
      `run ${n}: ${JSON.stringify(answer.results?.filter((r: { errors?: unknown }) => r.errors) ?? answer)}`,
    );

    const [customer] = await queryRows<{ id: number; name: string; attributes: { size: number } }>(
      t.deps.db,
      sql`select id, name, attributes from customers where external_id = ${who.externalId}`,
    );
    assert.equal(customer.name, value.name.trim());
    assert.equal(customer.attributes.size, value.attribute);
    const lines = await queryRows<{
      product: string;
      category: string;
      quantity: string;
      amount: string;
      total: string;
      ordered_at: string;
      currency: string;
    }>(
      t.deps.db,
      sql`
      select l.product, l.category, l.quantity::text, l.amount::text, o.total::text, o.ordered_at, o.currency from order_lines l
      join orders o on o.customer_id = l.customer_id and o.id = l.order_id where o.customer_id = ${customer.id} order by l.line_no`,
    );
    assert.deepEqual(
      lines.map((l) => [l.product, l.category]),
      value.lines.map((l) => [l.product.trim(), l.category.trim()]),
    );
    value.lines.forEach((line, i) =>
      assert.ok(
        same(lines[i].quantity, line.quantity) && same(lines[i].amount, line.amount),
        `run ${n} line ${i}: ${JSON.stringify(lines[i])} vs ${JSON.stringify(line)}`,
      ),
    );
    assert.ok(
      same(
        lines[0].total,
        value.lines.reduce((sum, l) => addDecimal(sum, l.amount), '0'),
      ),
      `run ${n} total ${lines[0].total}`,
    );
    assert.equal(new Date(lines[0].ordered_at).toISOString(), value.at);
    assert.equal(lines[0].currency, value.currency);
    const [back] = await queryRows<{
      amount: string;
      quantity: string;
      reason: string;
      body: string;
      detail: unknown;
      kind: string;
      score: string;
    }>(
      t.deps.db,
      sql`
      select r.amount::text, r.quantity::text, r.reason, n.body, p.detail, p.kind, s.score::text
      from returns r, notes n, touchpoints p, survey_responses s
      where r.customer_id = ${customer.id} and n.customer_id = ${customer.id} and p.customer_id = ${customer.id} and s.customer_id = ${customer.id}`,
    );
    assert.ok(
      same(back.amount, value.returnAmount) && same(back.quantity, value.returnQuantity),
      `run ${n} return ${JSON.stringify(back)}`,
    );
    assert.deepEqual([back.reason, back.body, back.kind], [value.reason.trim(), value.body.trim(), value.kind.trim()]);
    assert.deepEqual(back.detail, JSON.parse(JSON.stringify(value.detail)));
    assert.equal(Number(back.score), value.score);
  }
});
