// npm run bench:campaigns [-- --recipients N --customers N --databases postgres,pglite --part send,segment]
// send: N customers with consent, one campaign (10 % holdout) sent into a local SMTP sink by the
// real worker: messages per second and the share of time spent outside SMTP (the ledger, checks,
// rendering); every message arrives once. segment: M customers with orders on PostgreSQL, the
// live count of typical segment rules.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startSmtpSink } from '../test/smtp-sink.ts';
import { loadConfig } from '../src/config.ts';
import { createDeps } from '../src/deps.ts';
import { queryRows, sql } from '../src/db/connection.ts';
import { createCampaign, saveTemplate } from '../src/campaigns/campaign.service.ts';
import { assignMembers } from '../src/campaigns/campaign.repository.ts';
import { sendCampaign } from '../src/campaigns/send.service.ts';
import { membersOf, previewRule, ruleContext, saveSegment } from '../src/segments/segment.service.ts';
import { compileRule } from '../src/segments/segment.repository.ts';
import { recordConsent } from '../src/customers/consent.repository.ts';
import { refreshLifecycle } from '../src/customers/lifecycle.repository.ts';
import type { Deps } from '../src/deps.ts';
import type { Rule } from '../src/segments/segment.ts';

const { values } = parseArgs({
  options: {
    recipients: { type: 'string', default: '100000' },
    customers: { type: 'string', default: '1000000' },
    databases: { type: 'string', default: 'postgres' },
    part: { type: 'string', default: 'send,segment' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const parts = values.part!.split(',');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-campaigns-'));
const marketer = { kind: 'key' as const, id: 0, name: 'bench', role: 'marketer' as const };

async function database(kind: string, label: string) {
  if (kind !== 'postgres')
    return { url: undefined, dataDir: path.join(work, `data-${label}`), drop: async () => undefined };
  const name = `kept_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: values['postgres-url'] });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(values['postgres-url']!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    dataDir: path.join(work, 'unused'),
    drop: async () => {
      const c = new pg.Client({ connectionString: values['postgres-url'] });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const results: string[] = [];

/** Consent entries and the customer rows' order facts through the writers the product uses, 20,000 customers at a time. */
async function throughWriters(deps: Deps, options: { orders: boolean; granted: (id: number) => boolean; at: Date }) {
  const ids = (await queryRows<{ id: number }>(deps.db, sql`select id from customers order by id`)).map((r) =>
    Number(r.id),
  );
  for (let i = 0; i < ids.length; i += 20_000) {
    const chunk = ids.slice(i, i + 20_000);
    await deps.db.transaction(async (tx) => {
      if (options.orders) await refreshLifecycle(tx, chunk, { timeZone: deps.config.timeZone });
      await recordConsent(
        tx,
        chunk.map((customerId) => ({
          customerId,
          list: 'marketing',
          granted: options.granted(customerId),
          at: options.at,
          source: 'bench',
          wording: null,
        })),
      );
    });
  }
}

async function benchSend(kind: string) {
  const recipients = Number(values.recipients);
  const sink = await startSmtpSink({ keep: false });
  const target = await database(kind, 'send');
  const base = loadConfig({}, { ...process.env, NODE_ENV: 'test', KEPT_LOG_LEVEL: 'warn' });
  const config = {
    ...base,
    databaseUrl: target.url,
    publicUrl: 'https://kept.example.com',
    mail: { ...base.mail, smtpUrl: sink.url, sendRate: 1_000_000 },
  };
  const deps = await createDeps(config, { command: 'bench', dataDir: target.dataDir });
  try {
    log(`${kind}: ${recipients.toLocaleString('en')} customers with consent`);
    await deps.db.execute(
      sql`insert into customers (external_id, email, name, stage) select 'S' || g, 's' || g || '@example.com', 'Sam ' || g, 'customer' from generate_series(1, ${recipients}) g`,
    );
    await throughWriters(deps, { orders: false, granted: () => true, at: new Date(Date.now() - 30 * 86_400_000) });
    const segment = await saveSegment(deps, marketer, {
      name: 'All',
      kind: 'dynamic',
      rule: { match: 'all', conditions: [{ field: 'consent', op: 'granted' }] },
    });
    const template = await saveTemplate(deps, marketer, {
      name: 'Bench',
      subject: 'Hello {{ customer.first_name }}',
      body: '<p>Hi {{ customer.first_name }},</p>{% if customer.stage == "best" %}<p>Thanks.</p>{% endif %}<p><a href="https://example.com/new">New</a></p>',
    });
    const campaign = await createCampaign(deps, marketer, {
      name: 'Bench',
      kind: 'newsletter',
      channel: 'email',
      segmentId: segment.id,
      holdoutShare: 0.1,
      consentList: 'marketing',
      arms: [{ name: 'A', templateId: template.id, share: 1 }],
    });
    await deps.db.execute(sql`update campaigns set status = 'sending', started_at = now() where id = ${campaign.id}`);
    await assignMembers(
      deps.db,
      { id: campaign.id, arms: campaign.arms, holdoutShare: 0.1 },
      await membersOf(deps, segment),
      new Date(),
      'queued',
    );
    // Wall time with at least one message inside SMTP (handed to nodemailer, not yet answered 250).
    let smtpMs = 0;
    let inFlight = 0;
    let busySince = 0;
    const send = deps.mailer.send.bind(deps.mailer);
    (deps.mailer as { send: typeof send }).send = async (m) => {
      if (inFlight++ === 0) busySince = performance.now();
      try {
        await send(m);
      } finally {
        if (--inFlight === 0) smtpMs += performance.now() - busySince;
      }
    };
    log(`${kind}: sending`);
    const t0 = performance.now();
    let last = 0;
    const outcome = await sendCampaign(deps, campaign.id, {
      batchSize: 100,
      onProgress: (done, total) => {
        if (done - last >= 10_000) {
          last = done;
          log(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')}`);
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const [{ sent }] = await queryRows<{ sent: number }>(
      deps.db,
      sql`select count(*)::int as sent from campaign_members where campaign_id = ${campaign.id} and status = 'sent'`,
    );
    const distinct = new Set(sink.messages.map((m) => m.to)).size;
    if (sink.messages.length !== sent || distinct !== sent)
      throw new Error(`sink got ${sink.messages.length} (${distinct} distinct), ledger says ${sent}`);
    const outside = 1 - smtpMs / 1000 / seconds;
    results.push(
      `| ${kind} | send | ${recipients.toLocaleString('en')} customers, ${sent.toLocaleString('en')} sent | ${seconds.toFixed(1)} s | ${Math.round(sent / seconds).toLocaleString('en')} messages/s | ${(100 * outside).toFixed(0)} % of the time outside SMTP | ${outcome.suppressed} suppressed, each recipient once |`,
    );
  } finally {
    await deps.close();
    await sink.close();
    await target.drop();
  }
}

async function benchSegment(kind: string) {
  const customers = Number(values.customers);
  const target = await database(kind, 'segment');
  const base = loadConfig({}, { ...process.env, NODE_ENV: 'test', KEPT_LOG_LEVEL: 'warn' });
  const deps = await createDeps({ ...base, databaseUrl: target.url }, { command: 'bench', dataDir: target.dataDir });
  try {
    log(`${kind}: ${customers.toLocaleString('en')} customers, 3 orders each over two years`);
    const stages = `(array['customer','best','at_risk','lapsed','trial'])[1 + (g % 5)]`;
    // Three orders on three days each (order_days = 3, so refreshing the facts moves no stage).
    await deps.db.execute(
      sql.raw(`insert into customers (external_id, email, name, stage, acquisition_channel, order_days, flags, attributes)
      select 'G' || g, 'g' || g || '@example.com', 'Gus ' || g, ${stages}, (array['web','store','social'])[1 + (g % 3)], 3,
        case when g % 50 = 0 then array['do_not_contact'] else '{}'::text[] end, jsonb_build_object('tier', (array['bronze','silver','gold'])[1 + (g % 3)], 'birth_year', 1950 + g % 55)
      from generate_series(1, ${customers}) g`),
    );
    await deps.db.execute(
      sql.raw(`insert into orders (customer_id, external_id, ordered_at, total, channel, source)
      select c.id, c.external_id || '-' || k, now() - make_interval(days => ((c.id * 31 + k * 211) % 720)::int), 20 + (c.id + k) % 80, 'web', 'bench'
      from customers c cross join generate_series(1, 3) k`),
    );
    const t = performance.now();
    await throughWriters(deps, {
      orders: true,
      granted: (id) => id % 3 !== 0,
      at: new Date(Date.now() - 400 * 86_400_000),
    });
    log(
      `  order facts and consent kept on the customer rows by their writers in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    await deps.db.execute(
      sql.raw(`insert into attribute_definitions (key, type) values ('tier', 'text'), ('birth_year', 'number')`),
    );
    await deps.db.execute(sql.raw('vacuum analyze')); // settled, as autovacuum leaves a live table after the writers' updates
    const rules: [string, Rule][] = [
      [
        'stage is best or at risk, tier gold, not do-not-contact',
        {
          match: 'all',
          conditions: [
            { field: 'stage', op: 'in', value: ['best', 'at_risk'] },
            { field: 'attribute', key: 'tier', op: 'is', value: 'gold' },
            { field: 'flag', op: 'has_not', value: 'do_not_contact' },
          ],
        },
      ],
      [
        'last order 90-365 days ago and consent given',
        {
          match: 'all',
          conditions: [
            { field: 'last_order_at', op: 'not_in_last_days', value: 90 },
            { field: 'last_order_at', op: 'in_last_days', value: 365 },
            { field: 'consent', op: 'granted' },
          ],
        },
      ],
      [
        '2+ orders in the last 365 days or spend 150+',
        {
          match: 'any',
          conditions: [
            { field: 'orders', op: 'at_least', value: 2, days: 365 },
            { field: 'spend', op: 'at_least', value: 150 },
          ],
        },
      ],
    ];
    const context = await ruleContext(deps);
    for (const [name, rule] of rules) {
      await previewRule(deps, rule); // warm
      const t0 = performance.now();
      const [{ n }] = await queryRows<{ n: number }>(
        deps.db,
        sql`select count(*)::int as n from customers c where ${compileRule(rule, context)}`,
      );
      const counted = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const { customers: count } = await previewRule(deps, rule);
      const previewed = (performance.now() - t1) / 1000;
      if (count !== n) throw new Error(`count ${n} but preview ${count}`);
      results.push(
        `| ${kind} | segment count | ${customers.toLocaleString('en')} customers: ${name} | ${counted.toFixed(2)} s | ${n.toLocaleString('en')} match | the whole preview (count, stages, scores, first ten): ${previewed.toFixed(2)} s | |`,
      );
      log(`  ${name}: ${n} in ${counted.toFixed(2)} s, preview ${previewed.toFixed(2)} s`);
    }
  } finally {
    await deps.close();
    await target.drop();
  }
}

for (const kind of values.databases!.split(',')) {
  if (parts.includes('send')) await benchSend(kind);
  if (parts.includes('segment')) await benchSegment(kind);
}
fs.rmSync(work, { recursive: true, force: true });
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, commit ${commit}\n`,
);
console.log('| database | what | size | time | rate | | |\n|---|---|---|---|---|---|---|');
for (const row of results) console.log(row);
process.exit(0);
