// Customers who order every 20 days through 2025, some of whom stop in May: after an analysis as of
// 2026-01-10 the ones who stopped are at risk or lapsed. For worklist and agent tests.
export function steadyCustomerOrders(customers: number, stopping: number): unknown[] {
  const events: unknown[] = [];
  for (let c = 1; c <= customers; c++) {
    const orders = c <= stopping ? 8 : 18;
    for (let k = 0; k < orders; k++) {
      const at = new Date(Date.UTC(2025, 0, 1) + (k * 20 + (c % 5)) * 86_400_000).toISOString();
      events.push({
        id: `o${c}-${k}`,
        type: 'order',
        customer: { externalId: `C${c}` },
        orderId: `O${c}-${k}`,
        at,
        lines: [{ amount: String(40 + c) }],
      });
    }
  }
  return events;
}
