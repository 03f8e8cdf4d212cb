// Deterministic scale data for benchmarks: order lines as CSV, order events for the API.
import fs from 'node:fs';
import { random } from '../src/shared/random.ts';

const channels = ['web', 'store', 'email', 'mobile', 'phone'];
const start = Date.UTC(2024, 0, 1);
const day = 86_400_000;

/** Writes `count` order lines (1-4 lines an order, about ten orders a customer) to a CSV file. */
export function writeOrderLines(file: string, count: number, seed = 1): void {
  const next = random(seed);
  const customers = Math.max(1, Math.round(count / 25));
  const out = fs.openSync(file, 'w');
  let buffer = 'customer,order,at,product,quantity,unit_price,channel\n';
  let written = 0;
  let order = 0;
  while (written < count) {
    order++;
    const customer = `C${1 + Math.floor(next() * customers)}`;
    const at = new Date(start + Math.floor(next() * 730) * day + Math.floor(next() * day)).toISOString();
    const channel = channels[Math.floor(next() * channels.length)];
    const linesInOrder = Math.min(count - written, 1 + Math.floor(next() * 4));
    for (let line = 0; line < linesInOrder; line++) {
      const price = (5 + Math.floor(next() * 9500) / 100).toFixed(2);
      buffer += `${customer},O${order},${at},SKU-${1 + Math.floor(next() * 500)},${1 + Math.floor(next() * 3)},${price},${channel}\n`;
      written++;
    }
    if (buffer.length > 1 << 20) {
      fs.writeSync(out, buffer);
      buffer = '';
    }
  }
  fs.writeSync(out, buffer);
  fs.closeSync(out);
}

/** `count` order events with one or two lines each, for the ingest API. */
export function* orderEvents(count: number, seed = 2): Generator<Record<string, unknown>> {
  const next = random(seed);
  const customers = Math.max(1, Math.round(count / 5));
  for (let i = 0; i < count; i++) {
    const lines = [
      {
        product: `SKU-${1 + Math.floor(next() * 500)}`,
        quantity: 1,
        unitPrice: (5 + Math.floor(next() * 9500) / 100).toFixed(2),
      },
    ];
    if (next() < 0.3) lines.push({ product: `SKU-${1 + Math.floor(next() * 500)}`, quantity: 2, unitPrice: '9.90' });
    yield {
      id: `bench-${seed}-${i}`,
      type: 'order',
      customer: { externalId: `E${1 + Math.floor(next() * customers)}` },
      orderId: `EO${i}`,
      at: new Date(start + Math.floor(next() * 730 * day)).toISOString(),
      channel: channels[Math.floor(next() * channels.length)],
      lines,
    };
  }
}
