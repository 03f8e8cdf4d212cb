// npm run bench:retention [-- --customers N --postgres-url URL --keep --profile DIR]
// Why customers leave, at scale: N customers (5 acquisition channels, 18 custom attributes), two
// years of orders, the facts experiences are derived from (incidents, tickets, notes, NPS answers,
// returns) and three randomised campaigns, loaded with COPY into a fresh PostgreSQL database; then
// `kept analyze` end to end, and the retention step's phases as the run recorded them. Experiences
// raise the chance of dropping out, and the offers work only for gold-tier customers, so the hazard
// and uplift models have something real to find. --profile writes the CLI's CPU profiles there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/connection.ts';
import { beta, gamma, normal, random } from '../src/shared/random.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '100000' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const customerCount = Number(values.customers);
const asOf = '2026-11-30'; // fixed, so the same seed gives the same store; an analysis may not look past today
const end = Date.parse(`${asOf}T23:00:00Z`);
const start = Date.parse('2024-12-01T00:00:00Z');
const day = 86_400_000;
const hour = 3_600_000;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-retention-'));
const kept = path.resolve('bin/kept.js');
const log = (m: string) => process.stderr.write(`${m}\n`);
const rng = random(20261130);
const between = (low: number, high: number) => low + rng() * (high - low);
const pick = <T>(options: readonly T[]) => options[Math.floor(rng() * options.length)];
const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());
const channels = ['web', 'store', 'social', 'email', 'referral'] as const;
const categories = ['towels', 'bedding', 'kitchen', 'bath', 'decor', 'garden'] as const;
const campaigns = [
  { id: 1, name: 'Spring offer', kind: 'offer', at: Date.parse('2025-05-15T09:00:00Z') },
  { id: 2, name: 'Win back', kind: 'win_back', at: Date.parse('2025-09-01T09:00:00Z') },
  { id: 3, name: 'Autumn offer', kind: 'offer', at: Date.parse('2025-11-20T09:00:00Z') },
];
const attributeTypes: Record<string, 'number' | 'boolean' | 'text'> = {};

/** 18 custom attributes: six numbers, six yes/no, six text categories; has_app, loyalty_member and tier move behaviour. */
function attributesOf(): Record<string, number | boolean | string> {
  const a = {
    age: 18 + Math.floor(rng() * 60),
    household_size: 1 + Math.floor(rng() * 5),
    loyalty_points: Math.floor(gamma(rng, 1.5) * 400),
    distance_km: Math.round(gamma(rng, 2) * 150) / 10,
    newsletter_opens: Math.floor(rng() * 30),
    discount_share: Math.round(rng() * 60) / 100,
    newsletter: rng() < 0.55,
    has_app: rng() < 0.35,
    loyalty_member: rng() < 0.4,
    business: rng() < 0.08,
    gift_buyer: rng() < 0.2,
    prefers_phone: rng() < 0.15,
    tier: rng() < 0.5 ? 'bronze' : rng() < 0.6 ? 'silver' : 'gold',
    region: pick(['north', 'east', 'south', 'west', 'central']),
    device: pick(['ios', 'android', 'desktop']),
    size: pick(['S', 'M', 'L', 'XL']),
    payment: pick(['card', 'paypal', 'invoice']),
    language: pick(['en', 'de', 'fr', 'nl']),
  };
  for (const [key, value] of Object.entries(a))
    attributeTypes[key] ??= typeof value === 'string' ? 'text' : (typeof value as 'number' | 'boolean');
  return a;
}

type Field = string | number | boolean | null;
const field = (v: Field) =>
  v === null ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v);

/** A CSV file for COPY, written in 4 MB pieces; a row is a tagged template whose values are escaped. */
function csvFile(table: string, columns: string) {
  const file = path.join(work, `${table}.csv`);
  const out = fs.openSync(file, 'w');
  let buffer = '';
  let rows = 0;
  return {
    table,
    columns,
    file,
    get rows() {
      return rows;
    },
    row(parts: TemplateStringsArray, ...values: Field[]) {
      buffer += parts.reduce((line, part, i) => line + field(values[i - 1]) + part);
      buffer += '\n';
      rows++;
      if (buffer.length > 1 << 22) {
        fs.writeSync(out, buffer);
        buffer = '';
      }
    },
    close() {
      fs.writeSync(out, buffer);
      fs.closeSync(out);
    },
  };
}

const files = {
  customers: csvFile(
    'customers',
    'id, external_id, email, name, acquisition_channel, created_at, updated_at, stage, stage_changed_at, first_order_at, last_order_at, order_days, order_count, spend, recent_orders, attributes',
  ),
  identities: csvFile('identities', 'kind, value, customer_id, source'),
  orders: csvFile('orders', 'id, customer_id, external_id, ordered_at, channel, currency, total, source'),
  order_lines: csvFile(
    'order_lines',
    'customer_id, order_id, line_no, product, category, quantity, unit_price, amount',
  ),
  incidents: csvFile('incidents', 'id, customer_id, external_id, order_id, at, kind, channel'),
  tickets: csvFile(
    'tickets',
    'id, customer_id, external_id, order_id, opened_at, channel, category, priority, status, subject, first_response_at, resolved_at, outcome, updated_at',
  ),
  notes: csvFile('notes', 'id, customer_id, at, author, channel, body, feeling'),
  survey_responses: csvFile('survey_responses', 'id, customer_id, external_id, at, survey, question, score, channel'),
  returns: csvFile(
    'returns',
    'id, customer_id, external_id, order_id, returned_at, product, quantity, amount, reason_code, source',
  ),
  campaign_members: csvFile('campaign_members', 'campaign_id, customer_id, arm, status, assigned_at, sent_at, email'),
};
const ids = { order: 0, incident: 0, ticket: 0, note: 0, survey: 0, return: 0 };
const counts: Record<string, number> = {};
const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);

interface Order {
  at: number;
  cents: number;
  /** Writes the order's lines and what happened after it, once its id is known. */
  write(customerId: number, orderId: number, externalId: string): void;
  /** How much more likely the customer drops out after it. */
  risk: number;
}

/** One order and what followed it: late or wrong delivery, an abandoned portal step, a ticket, an NPS answer, a return, notes. */
function drawOrder(at: number, favourite: string): Order {
  const cents = Math.round(between(20, 200) * 100);
  const lines = 1 + Math.floor(rng() * 3);
  const late = rng() < 0.15;
  const wrong = rng() < 0.03;
  const portal = rng() < 0.03;
  // Each incident: half followed up by an agent a day later, some of the rest with an upset note.
  const incidents = (
    [
      [late, 'late_delivery', 4, 0.06],
      [wrong, 'wrong_item', 3, 0.15],
      [portal, 'portal_abandoned', 8, 0.04],
    ] as const
  )
    .filter(([happened]) => happened)
    .map(([, kind, after, risk]) => {
      const followed = rng() < 0.5;
      const upset = !followed && rng() < 0.3 ? (rng() < 0.33 ? -2 : -1) : 0;
      return { kind, at: at + between(1, after) * day, followed, upset, risk: risk * (followed ? 0.5 : 1) };
    });
  const ticket = rng() < (late || wrong ? 0.25 : 0.055);
  const opened = at + between(1, 10) * day;
  const firstResponse = opened + between(1, 60) * hour;
  const ticketEnd = rng();
  const resolved = ticketEnd < 0.12 ? null : firstResponse + gamma(rng, 1) * 3 * day;
  const slow = ticket && firstResponse - opened > 24 * hour;
  const unresolved = ticket && (resolved === null || resolved - opened > 7 * day);
  const survey = rng() < 0.2;
  const score = Math.max(0, Math.min(10, Math.round(8.6 + 1.6 * normal(rng) - 3 * +late - 4 * +wrong - 2 * +slow)));
  const returned = rng() < 0.05 || (wrong && rng() < 0.6);
  const risk =
    incidents.reduce((r, i) => r + i.risk + (i.upset ? 0.05 : 0), 0) +
    (slow ? 0.05 : 0) +
    (unresolved ? 0.12 : 0) +
    (survey && score <= 6 ? 0.08 : 0);
  const line = Array.from({ length: lines }, () => (rng() < 0.6 ? favourite : pick(categories)));
  return {
    at,
    cents,
    risk,
    write(c, order, ref) {
      let left = cents;
      line.forEach((category, k) => {
        const amount = k === lines - 1 ? left : Math.round(cents / lines);
        left -= amount;
        const price = (amount / 100).toFixed(2);
        files.order_lines
          .row`${c},${order},${k + 1},${`${category}-${1 + (order % 10)}`},${category},1,${price},${price}`;
      });
      for (const i of incidents) {
        if (i.at > end) continue;
        files.incidents.row`${++ids.incident},${c},${`I${ids.incident}`},${order},${iso(i.at)},${i.kind},shop`;
        count(`incident ${i.kind}`);
        if (i.followed && i.at + day <= end)
          files.notes
            .row`${++ids.note},${c},${iso(i.at + day)},agent,phone,${`Called about the ${i.kind.replace(/_/g, ' ')} of ${ref}`},0`;
        if (i.upset && i.at + 3 * hour <= end)
          files.notes.row`${++ids.note},${c},${iso(i.at + 3 * hour)},agent,email,${`Upset about ${ref}`},${i.upset}`;
      }
      if (ticket && opened <= end) {
        const answered = firstResponse <= end ? firstResponse : null;
        const closed = resolved !== null && resolved <= end ? resolved : null;
        const status = closed ? 'resolved' : ticketEnd < 0.05 ? 'closed' : 'open';
        const outcome = closed ? 'resolved' : status === 'closed' ? 'unresolved' : null;
        const category = late ? 'delivery' : wrong ? 'product' : 'other';
        files.tickets
          .row`${++ids.ticket},${c},${`T${ids.ticket}`},${order},${iso(opened)},email,${category},normal,${status},${`About ${ref}`},${iso(answered)},${iso(closed)},${outcome},${iso(closed ?? answered ?? opened)}`;
        count('ticket');
      }
      if (survey && at + 10 * day <= end) {
        files.survey_responses
          .row`${++ids.survey},${c},${`S${ids.survey}`},${iso(at + 10 * day)},post_purchase_nps,nps,${score},email`;
        count(score <= 6 ? 'NPS answer 0-6' : 'NPS answer 7-10');
      }
      if (returned && at + 12 * day <= end) {
        const reason = wrong ? 'wrong_item' : pick(['damaged', 'too_small', 'changed_mind', 'not_as_described']);
        const amount = (cents / 100 / lines).toFixed(2);
        files.returns
          .row`${++ids.return},${c},${`R${ids.return}`},${order},${iso(at + 12 * day)},${`${line[0]}-1`},1,${amount},${reason},bench`;
        count('return');
      }
    },
  };
}

/** Customers, their orders and all the rest, into CSV files. */
function generate() {
  const trialCustomers = new Set<number>();
  for (let c = 1; c <= customerCount; c++) {
    const attributes = attributesOf();
    const channel = pick(channels);
    const favourite = pick(categories);
    // A Poisson process while active (a purchase every 30 days on average, faster with the app);
    // after each order the customer drops out with a chance that its experiences raise.
    const rate = (gamma(rng, 2) / 60) * (attributes.has_app ? 1.3 : 1);
    const dropout = beta(rng, 1, 24) * (attributes.loyalty_member ? 0.7 : 1);
    const orders: Order[] = [];
    for (let t = start + rng() * (end - start - 14 * day); t <= end; t += (-Math.log(1 - rng()) / rate) * day) {
      const order = drawOrder(t, favourite);
      orders.push(order);
      if (rng() < dropout + order.risk) break;
    }
    const first = orders[0].at;
    const email = `r${c}@example.com`;
    for (const campaign of campaigns) {
      if (campaign.at < first || rng() >= 0.6) continue;
      const control = rng() < 0.2;
      const [arm, status] = control ? ['control', 'holdout'] : ['offer', 'sent'];
      files.campaign_members
        .row`${campaign.id},${c},${arm},${status},${iso(campaign.at)},${control ? null : iso(campaign.at + hour)},${email}`;
      count(control ? 'campaign member (control)' : 'campaign member (treated)');
      trialCustomers.add(c);
      // The offer works on gold-tier customers only: an order within two months for three in ten of them.
      if (!control && attributes.tier === 'gold' && rng() < 0.3) {
        const at = campaign.at + between(3, 60) * day;
        if (at <= end) orders.push({ ...drawOrder(at, favourite), risk: 0 });
      }
    }
    orders.sort((a, b) => a.at - b.at);
    const days = new Set(orders.map((o) => Math.floor(o.at / day))).size;
    const spend = (orders.reduce((s, o) => s + o.cents, 0) / 100).toFixed(2);
    const last = orders[orders.length - 1].at;
    const recent = `{${orders
      .slice(-10)
      .reverse()
      .map((o) => iso(o.at))
      .join(',')}}`;
    const stage = days > 1 ? 'customer' : 'trial';
    files.customers
      .row`${c},${`R${c}`},${email},${`Customer ${c}`},${channel},${iso(first)},${iso(last)},${stage},${iso(first)},${iso(first)},${iso(last)},${days},${orders.length},${spend},${recent},${JSON.stringify(attributes)}`;
    files.identities.row`external,${`R${c}`},${c},bench`;
    files.identities.row`email,${email},${c},bench`;
    orders.forEach((o, k) => {
      const id = ++ids.order;
      const ref = `R${c}-${k + 1}`;
      files.orders
        .row`${id},${c},${ref},${iso(o.at)},${channel === 'store' ? 'store' : 'web'},EUR,${(o.cents / 100).toFixed(2)},bench`;
      o.write(c, id, ref);
    });
  }
  counts['customers in a campaign'] = trialCustomers.size;
  for (const f of Object.values(files)) f.close();
}

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: values['postgres-url'] });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function psql(url: string, args: string[]) {
  const result = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Runs a kept command, returning wall seconds and peak resident memory in MB (GNU time). */
function timed(args: string[], env: NodeJS.ProcessEnv) {
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : [];
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M %U %S', process.execPath, ...profile, kept, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`kept ${args.join(' ')} failed: ${result.stderr.slice(-3000)}`);
  const match = result.stderr.match(/BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/)!;
  const cpu = Number(match[3]) + Number(match[4]);
  return { seconds: Number(match[1]), peakMb: Number(match[2]) / 1024, cpu, stdout: result.stdout };
}

/** The number of features an uplift report names, wherever it keeps them (a count or a list). */
function featuresIn(value: unknown): number | null {
  if (!value || typeof value !== 'object') return null;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'features' && typeof v === 'number') return v;
    if (key === 'features' && Array.isArray(v)) return v.length;
    const inner = featuresIn(v);
    if (inner !== null) return inner;
  }
  return null;
}

if (Date.now() < end) throw new Error(`the store ends on ${asOf}, after today: an analysis cannot look ahead`);
log(`generating ${customerCount.toLocaleString('en')} customers into ${work}`);
let t0 = performance.now();
generate();
const generated = (performance.now() - t0) / 1000;
log(
  `generated in ${generated.toFixed(1)} s: ${Object.values(files)
    .map((f) => `${f.table} ${f.rows.toLocaleString('en')}`)
    .join(', ')}`,
);

const name = `kept_bench_retention_${process.pid}`;
await admin(`create database ${name}`);
const url = new URL(values['postgres-url']!);
url.pathname = `/${name}`;
const databaseUrl = url.toString();
try {
  const database = await openDatabase({ databaseUrl });
  await database.migrate();
  await database.close();
  t0 = performance.now();
  const campaignRows = campaigns
    .map(
      (c) =>
        `(${c.id}, '${c.name}', '${c.kind}', 'email', '[{"name":"offer","templateId":null,"share":1}]', 0.2, 'marketing', 'UTC', 'done', 'bench', '${iso(c.at - day)}', '${iso(c.at)}', '${iso(c.at + hour)}')`,
    )
    .join(',\n');
  const attributeRows = Object.entries(attributeTypes)
    .map(([key, type]) => `('${key}', '${type}')`)
    .join(', ');
  const load = path.join(work, 'load.sql');
  fs.writeFileSync(
    load,
    [
      ...Object.values(files).map((f) => `\\copy ${f.table} (${f.columns}) from '${f.file}' with (format csv)`),
      `insert into campaigns (id, name, kind, channel, arms, holdout_share, consent_list, time_zone, status, created_by, created_at, started_at, finished_at) overriding system value values\n${campaignRows};`,
      `insert into attribute_definitions (key, type) values ${attributeRows};`,
      // COPY writes identity columns as given: move each sequence past them.
      ...['customers', 'orders', 'incidents', 'tickets', 'notes', 'survey_responses', 'returns', 'campaigns'].map(
        (t) =>
          `select setval(pg_get_serial_sequence('${t}', 'id'), (select coalesce(max(id), 1) from ${t})) \\g /dev/null`,
      ),
      // Vacuumed and analysed, as autovacuum leaves a table some time after a bulk load.
      'vacuum analyze;',
      'checkpoint;',
    ].join('\n'),
  );
  psql(databaseUrl, ['-f', load]);
  const loaded = (performance.now() - t0) / 1000;
  log(`loaded with COPY in ${loaded.toFixed(1)} s`);

  log('building the CLI (scripts/build.mjs)');
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  spawnSync('sync');
  log(`kept analyze --as-of ${asOf}`);
  const run = timed(['analyze', '--as-of', asOf, '--json'], {
    ...process.env,
    DATABASE_URL: databaseUrl,
    KEPT_LOG_LEVEL: 'warn',
  });
  const outcome = JSON.parse(run.stdout) as { runId: number; phases: Record<string, number>; warnings?: string[] };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const [{ retention }] = (
    await client.query("select models -> 'retention' as retention from analysis_runs order by id desc limit 1")
  ).rows;
  const [report] = (await client.query('select uplift from retention_reports order by run_id desc limit 1')).rows;
  const experiences = (
    await client.query('select kind, count(*)::int as n from experiences group by kind order by 2 desc')
  ).rows as { kind: string; n: number }[];
  await client.end();
  const s = (retention?.seconds ?? {}) as Record<string, number>;
  const models = (s.outcomes ?? 0) + (s.hazard ?? 0) + (s.uplift ?? 0);
  const withReading = models + (s.read ?? 0) + (s.experiences ?? 0);
  const features = featuresIn(retention?.uplift) ?? featuresIn(report?.uplift);
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const version = psql(databaseUrl, ['-Atc', 'show server_version']).trim();
  const listed = (entries: [string, number][]) => entries.map(([k, n]) => `${k} ${n.toLocaleString('en')}`).join(', ');
  const uplift = { ...report?.uplift, ...retention?.uplift };
  console.log(
    [
      `\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${version}, commit ${commit}`,
      `Store (generated in ${generated.toFixed(1)} s, loaded with COPY in ${loaded.toFixed(1)} s): ${listed(Object.values(files).map((f) => [f.table, f.rows]))}`,
      `  sources: ${listed(Object.entries(counts).sort())}`,
      `  experiences (${experiences.reduce((n, e) => n + e.n, 0).toLocaleString('en')}): ${listed(experiences.map((e) => [e.kind, e.n]))}`,
      `kept analyze: ${run.seconds.toFixed(1)} s (CPU ${run.cpu.toFixed(1)} s, load average ${os.loadavg()[0].toFixed(1)}), peak ${Math.round(run.peakMb)} MB; phases ${JSON.stringify(outcome.phases)}`,
      `retention step: ${JSON.stringify(s)}`,
      `outcomes + hazard + uplift: ${models.toFixed(2)} s (target under 60 s: ${models < 60 ? 'met' : 'missed'}); with read and experiences: ${withReading.toFixed(2)} s`,
      `uplift: source ${uplift.source ?? '?'}, ${uplift.trials ?? '?'} trials, features ${features ?? `not reported (stateColumns: 12 from the history + ${Object.keys(attributeTypes).length} attributes)`}`,
      `hazard ${JSON.stringify(retention?.hazard ?? null)}; customers ${retention?.customers}, experiences read ${retention?.experiences}, cells ${retention?.cells}, rules proposed ${retention?.rulesProposed}`,
    ].join('\n'),
  );
  for (const w of outcome.warnings ?? []) console.log(`warning: ${w}`);
} finally {
  if (values.keep) log(`kept the database: ${databaseUrl}`);
  else await admin(`drop database if exists ${name} with (force)`);
  fs.rmSync(work, { recursive: true, force: true });
}
