// One slow kind of request must never starve the others: on PostgreSQL each route class has its own
// connections and statement timeout, and a search or export whose client left is cancelled in the
// database. The slow work here is pg_sleep, so nothing depends on how fast this machine is.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { sqlStateOf } from '../shared/errors.ts';
import { queryRows, routeClasses, sql, type Db } from './connection.ts';

let t: TestApp;
const postgres = Boolean(process.env.DATABASE_URL);
const skip = postgres ? false : 'PGlite is one connection inside the process: there is no pool to share';

before(async () => {
  t = await createTestApp();
  const events = [
    {
      id: 'c1',
      type: 'customer.upsert',
      customer: { externalId: 'R-1', email: 'rosa@example.com' },
      name: 'Rosa Diaz',
    },
  ];
  assert.equal((await expectJson(t.call('POST', '/api/v1/events', { events }))).accepted, 1);
});
after(() => t.close());

const sleeping = async (kind: string) => {
  const [{ n }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = ${`kept ${kind}`} and state = 'active'
        and query like 'select pg_sleep%'`,
  );
  return n;
};
async function until(check: () => Promise<boolean>, what: string) {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`waited 10 s for ${what}`);
}
const nap = (db: Db) => db.execute(sql`select pg_sleep(60)`);

test('each class runs under its own statement timeout', { skip }, async () => {
  for (const [kind, { timeoutMs }] of Object.entries(routeClasses)) {
    const [{ setting }] = await t.deps.database.run(kind as keyof typeof routeClasses, undefined, (db) =>
      queryRows<{ setting: string }>(db, sql`select setting from pg_settings where name = 'statement_timeout'`),
    );
    assert.equal(Number(setting), timeoutMs, `${kind}: milliseconds`);
  }
});

test('searches fill their own share of connections, record reads go on, and leaving cancels them in the database', {
  skip,
}, async () => {
  const share = routeClasses.search.connections;
  const leaving = Array.from({ length: share + 2 }, () => new AbortController());
  const searches = leaving.map((client) =>
    t.deps.database.run('search', client.signal, nap).then(
      () => 'finished',
      (error) => sqlStateOf(error) ?? (error as Error).message,
    ),
  );
  await until(async () => (await sleeping('search')) === share, `${share} sleeping searches`);
  // The two more wait for a connection of the search share, not one of another class.
  assert.equal(await sleeping('search'), share);
  const list = await expectJson(t.call('GET', '/api/v1/customers?sort=name'));
  const id = list.customers[0].id;
  const record = await expectJson(t.call('GET', `/api/v1/customers/${id}`));
  assert.equal(record.name, 'Rosa Diaz', 'a record read answers while every search connection is taken');
  assert.equal(await sleeping('search'), share, 'the searches are still running');
  for (const client of leaving) client.abort();
  await until(async () => (await sleeping('search')) === 0, 'the database to stop the searches');
  const outcomes = await Promise.all(searches);
  assert.deepEqual(
    outcomes.sort(),
    [...Array(share).fill('57014'), ...Array(2).fill('The client went away before the request ran')].sort(),
    'the running ones cancelled (57014), the waiting ones never started',
  );
});
