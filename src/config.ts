import path from 'node:path';
import { AppError } from './shared/errors.ts';

/** Everything Kept reads from its environment, read once here and nowhere else. */
export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly timeZone: string;
  readonly defaultCountry: string;
  readonly logLevel: string;
  readonly publicUrl: string | undefined;
  readonly secureCookies: boolean;
  /** Requests one API key may make per minute before 429 (KEPT_KEY_REQUESTS_PER_MINUTE). */
  readonly keyRequestsPerMinute: number;
  /** Start even when PostgreSQL runs with fsync, synchronous_commit or full_page_writes off. */
  readonly allowUnsafeStorage: boolean;
  readonly analytics: AnalyticsConfig;
  readonly care: CareConfig;
  readonly experiences: ExperiencesConfig;
  readonly mail: MailConfig;
  readonly programme: ProgrammeConfig;
  /** Signs unsubscribe and tracking links; without it a random key is kept in the database. */
  readonly secret: string | undefined;
  /** Hosts, addresses or CIDR ranges webhooks may reach although they are internal (KEPT_WEBHOOK_ALLOW). */
  readonly webhookAllow: readonly string[];
  /** Days each class of data is kept; null keeps it (KEPT_RETENTION; docs/security.md). */
  readonly retention: Readonly<Record<RetentionClass, number | null>>;
  /**
   * What a new current address does to a customer flagged moved or undeliverable
   * (KEPT_NEW_ADDRESS_CLEARS): `clear` the flags, or `ask` (keep them and warn on the record).
   */
  readonly newAddressClears: 'clear' | 'ask';
}

/** What the nightly retention sweep removes, and after how many days unless KEPT_RETENTION says otherwise. */
export const retentionDefaults = {
  sessions: 30,
  captured_mail: 90,
  dead_letters: 365,
  jobs: 90,
  import_files: 30,
  score_history: 400,
  event_ids: 400,
  webhook_deliveries: 30,
  inactive_customers: null,
} satisfies Record<string, number | null>;
export type RetentionClass = keyof typeof retentionDefaults;

/** `captured_mail=30,inactive_customers=1095,jobs=never` over the defaults. */
function parseRetention(value: string | undefined): Record<RetentionClass, number | null> {
  const result: Record<string, number | null> = { ...retentionDefaults };
  for (const part of (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, days] = part.split('=').map((p) => p.trim());
    if (!(name in retentionDefaults))
      fail(`KEPT_RETENTION: no data class "${name}"; the classes are ${Object.keys(retentionDefaults).join(', ')}`);
    if (days === 'never') result[name] = null;
    else if (/^\d+$/.test(days ?? '') && Number(days) >= 1) result[name] = Number(days);
    else fail(`KEPT_RETENTION: ${name} must be a whole number of days (at least 1) or never, got "${days ?? ''}"`);
  }
  return result as Record<RetentionClass, number | null>;
}

/** Sending campaigns (docs/campaigns.md). */
export interface MailConfig {
  /** smtp:// or smtps:// URL of the server to send through; without it mail is captured and readable in the UI. */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  /** Messages per second, at most. */
  readonly sendRate: number;
  /** At most this many marketing messages per customer in `frequencyDays` days. */
  readonly frequencyCap: number;
  readonly frequencyDays: number;
  /** A claimed message not confirmed sent after this long is marked unknown, never resent. */
  readonly leaseSeconds: number;
  /** opt-in: marketing needs consent on record; unless-withdrawn: anyone who has not withdrawn it. */
  readonly consent: 'opt-in' | 'unless-withdrawn';
}

/** The marketing programme as a whole: the universal control group and clean holdouts (docs/campaigns.md). */
export interface ProgrammeConfig {
  /** Share of customers no marketing programme ever touches, to measure the programme's total lift (0 turns it off). */
  readonly universalControl: number;
  /** Days after a customer was held out of a campaign or journey in which no other marketing programme treats them. */
  readonly holdoutDays: number;
  /** Marketing waits while a customer has an open problem (an open ticket, a problem not yet followed up). */
  readonly waitForProblems: boolean;
  /** How far back an unanswered problem still holds marketing back. */
  readonly problemDays: number;
}

/** Limits of the agent workspace and the public survey links (docs/care.md). */
export interface CareConfig {
  /** A gesture (gift, credit) up to this value needs no approval. */
  readonly giftAllowance: number;
  /** Days a survey link stays valid. */
  readonly surveyLinkDays: number;
  /** What each worklist action costs besides a gift's value (an agent's time, a replacement, an offer's discount). */
  readonly actionCosts: { readonly call: number; readonly apology_replacement: number; readonly offer: number };
  /** Share of at-risk and lapsed customers held out of the worklist's suggestions at random, to measure them. */
  readonly worklistHoldout: number;
  /** Days after an experience, a suggestion or an assignment in which "bought again" is counted. */
  readonly outcomeDays: number;
  /** Days without an order after which a customer counts as gone in the hazard model and the post-mortems. */
  readonly lapseDays: number;
  /** The uplift assumed for an action before any holdout has measured one (a share of reachable customers moved). */
  readonly assumedUplift: number;
}

/** Thresholds of the experiences catalogue (docs/care.md, Experiences). */
export interface ExperiencesConfig {
  /** A ticket with no first response this many hours after it was opened had a slow first response. */
  readonly slowResponseHours: number;
  /** A ticket not resolved this many days after it was opened is unresolved. */
  readonly unresolvedDays: number;
  /** A survey answer on a 1-5 scale at or below this is a low score. */
  readonly lowScore: number;
  /** An NPS answer (0-10) at or below this is a low score. */
  readonly lowNps: number;
  /** A problem counts as followed up when someone on our side followed it up within this many days (used by the analyses). */
  readonly followUpDays: number;
}

/** Thresholds of the predictive stages and of the value model (docs/analytics.md). */
export interface AnalyticsConfig {
  /** at_risk below this probability of being active. */
  readonly atRiskBelow: number;
  /** lapsed (predicted gone) below this probability. */
  readonly lapsedBelow: number;
  /** best: this top share of active customers by predicted value. */
  readonly bestTopShare: number;
  /** Yearly discount rate of predicted value. */
  readonly discountRate: number;
  /** The model that scores: chosen by each analysis's backtest ('auto'), or pinned. */
  readonly activityModel: ActivityModel;
  /** Days of the store's own latest history each analysis holds out to test its candidates on. */
  readonly backtestDays: number;
  /** Whether a later day whose orders total 0 counts as a repeat purchase (a free replacement, a £0.00 invoice: by default it does not; a first order always counts). */
  readonly zeroValueOrders: 'ignore' | 'count';
}

export const activityModels = ['auto', 'bgnbd', 'mbgnbd', 'pareto', 'supervised'] as const;
export type ActivityModel = (typeof activityModels)[number];

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
}

function fail(message: string): never {
  throw new AppError('bad_request', `configuration: ${message}`);
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Where links in mail and surveys point: KEPT_PUBLIC_URL, or this server. */
export const publicBase = (config: Config) =>
  (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/$/, '');

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = overrides.port ?? Number(env.KEPT_PORT ?? env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`port must be 0-65535, got ${port}`);
  const timeZone = env.KEPT_TIME_ZONE ?? 'UTC';
  if (!validTimeZone(timeZone)) fail(`KEPT_TIME_ZONE "${timeZone}" is not an IANA time zone`);
  const defaultCountry = (env.KEPT_DEFAULT_COUNTRY ?? 'US').toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultCountry)) fail(`KEPT_DEFAULT_COUNTRY must be a two-letter country code`);
  const share = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!(value > 0 && value < 1)) fail(`${name} must be a number between 0 and 1, got ${env[name]}`);
    return value;
  };
  const analytics = {
    atRiskBelow: share('KEPT_AT_RISK_BELOW', 0.5),
    lapsedBelow: share('KEPT_LAPSED_BELOW', 0.2),
    bestTopShare: share('KEPT_BEST_TOP_SHARE', 0.1),
    discountRate: share('KEPT_DISCOUNT_RATE', 0.1),
    activityModel: (env.KEPT_ACTIVITY_MODEL ?? 'auto') as ActivityModel,
    backtestDays: Number(env.KEPT_BACKTEST_DAYS ?? 90),
    zeroValueOrders: (env.KEPT_ZERO_VALUE_ORDERS ?? 'ignore') as 'ignore' | 'count',
  };
  if (!activityModels.includes(analytics.activityModel))
    fail(`KEPT_ACTIVITY_MODEL must be one of ${activityModels.join(', ')}`);
  if (!(Number.isInteger(analytics.backtestDays) && analytics.backtestDays >= 7 && analytics.backtestDays <= 366))
    fail(`KEPT_BACKTEST_DAYS must be a whole number of days from 7 to 366, got ${env.KEPT_BACKTEST_DAYS}`);
  if (!['ignore', 'count'].includes(analytics.zeroValueOrders)) fail('KEPT_ZERO_VALUE_ORDERS must be ignore or count');
  if (analytics.lapsedBelow >= analytics.atRiskBelow) fail('KEPT_LAPSED_BELOW must be below KEPT_AT_RISK_BELOW');
  const positive = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!(value >= 0 && Number.isFinite(value))) fail(`${name} must be a number of at least 0, got ${env[name]}`);
    return value;
  };
  const care = {
    giftAllowance: positive('KEPT_GIFT_ALLOWANCE', 25),
    surveyLinkDays: positive('KEPT_SURVEY_LINK_DAYS', 60),
    actionCosts: {
      call: positive('KEPT_CALL_COST', 4),
      apology_replacement: positive('KEPT_REPLACEMENT_COST', 15),
      offer: positive('KEPT_OFFER_COST', 5),
    },
    worklistHoldout: share('KEPT_WORKLIST_HOLDOUT', 0.1),
    outcomeDays: positive('KEPT_OUTCOME_DAYS', 90),
    lapseDays: positive('KEPT_LAPSE_DAYS', 180),
    assumedUplift: share('KEPT_ASSUMED_UPLIFT', 0.1),
  };
  for (const name of ['KEPT_OUTCOME_DAYS', 'KEPT_LAPSE_DAYS'] as const)
    if (!Number.isInteger(Number(env[name] ?? 90)) || Number(env[name] ?? 90) < 7)
      fail(`${name} must be a whole number of days of at least 7, got ${env[name]}`);
  const whole = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < min)
      fail(`${name} must be a whole number of at least ${min}, got ${env[name]}`);
    return value;
  };
  const between = (name: string, fallback: number, min: number, max: number, what: string) => {
    const value = Number(env[name] ?? fallback);
    if (!(Number.isInteger(value) && value >= min && value <= max))
      fail(`${name} must be a whole number of ${what} from ${min} to ${max}, got ${env[name]}`);
    return value;
  };
  const experiences = {
    slowResponseHours: between('KEPT_SLOW_RESPONSE_HOURS', 24, 1, 24 * 366, 'hours'),
    unresolvedDays: between('KEPT_UNRESOLVED_DAYS', 7, 1, 366, 'days'),
    lowScore: between('KEPT_LOW_SCORE', 2, 1, 5, 'points on the 1-5 scale'),
    lowNps: between('KEPT_LOW_NPS', 6, 0, 10, 'points on the 0-10 NPS scale'),
    followUpDays: between('KEPT_FOLLOW_UP_DAYS', 2, 1, 366, 'days'),
  };
  const smtpUrl = env.KEPT_SMTP_URL?.trim() || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) fail('KEPT_SMTP_URL must start with smtp:// or smtps://');
  const consent = (env.KEPT_MARKETING_CONSENT ?? 'opt-in') as MailConfig['consent'];
  if (!['opt-in', 'unless-withdrawn'].includes(consent))
    fail('KEPT_MARKETING_CONSENT must be opt-in or unless-withdrawn');
  const mail = {
    smtpUrl,
    from: env.KEPT_MAIL_FROM ?? 'Kept <kept@localhost>',
    sendRate: whole('KEPT_SEND_RATE', 50, 1),
    frequencyCap: whole('KEPT_FREQUENCY_CAP', 3, 1),
    frequencyDays: whole('KEPT_FREQUENCY_DAYS', 7, 1),
    leaseSeconds: whole('KEPT_SEND_LEASE_SECONDS', 300, 1),
    consent,
  };
  const universalControl = Number(env.KEPT_UNIVERSAL_CONTROL ?? 0.05);
  if (!(universalControl >= 0 && universalControl <= 0.5))
    fail(`KEPT_UNIVERSAL_CONTROL must be a share from 0 to 0.5, got ${env.KEPT_UNIVERSAL_CONTROL}`);
  const waitForProblems = env.KEPT_WAIT_FOR_PROBLEMS ?? 'true';
  if (!['true', 'false'].includes(waitForProblems)) fail('KEPT_WAIT_FOR_PROBLEMS must be true or false');
  const programme = {
    universalControl,
    holdoutDays: between('KEPT_HOLDOUT_DAYS', 30, 1, 366, 'days'),
    waitForProblems: waitForProblems === 'true',
    problemDays: between('KEPT_PROBLEM_DAYS', 14, 1, 366, 'days'),
  };
  const keyRequestsPerMinute = whole('KEPT_KEY_REQUESTS_PER_MINUTE', 6000, 1);
  const secret = env.KEPT_SECRET || undefined;
  if (secret !== undefined && secret.length < 16) fail('KEPT_SECRET must be at least 16 characters');
  const newAddressClears = env.KEPT_NEW_ADDRESS_CLEARS ?? 'clear';
  if (newAddressClears !== 'clear' && newAddressClears !== 'ask')
    fail(`KEPT_NEW_ADDRESS_CLEARS must be clear or ask, got "${newAddressClears}"`);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) fail('DATABASE_URL must start with postgres://');
  return Object.freeze({
    databaseUrl,
    dataDir: path.resolve(overrides.dataDir ?? env.KEPT_DATA_DIR ?? 'data'),
    port,
    host: env.KEPT_HOST ?? '127.0.0.1',
    timeZone,
    defaultCountry,
    logLevel: env.KEPT_LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    publicUrl: env.KEPT_PUBLIC_URL,
    secureCookies: env.KEPT_SECURE_COOKIES === 'true',
    allowUnsafeStorage: env.KEPT_ALLOW_UNSAFE_STORAGE === 'true',
    keyRequestsPerMinute,
    retention: Object.freeze(parseRetention(env.KEPT_RETENTION)),
    webhookAllow: Object.freeze(
      (env.KEPT_WEBHOOK_ALLOW ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
    analytics: Object.freeze(analytics),
    care: Object.freeze(care),
    experiences: Object.freeze(experiences),
    mail: Object.freeze(mail),
    programme: Object.freeze(programme),
    secret,
    newAddressClears,
  });
}
