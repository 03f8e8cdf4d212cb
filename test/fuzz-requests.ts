// Requests for the API fuzz suite, generated from the OpenAPI document: each route's path ids,
// query and JSON body follow its schema most of the time (so the route's own code runs, not only its
// validation) and break it the rest of the time with the classes that once broke Kept: NUL and
// unpaired surrogates, values that pass a schema and fail in a column (year 0000, 1e21, 5e-324,
// 30 February), inherited property names, coerced ids, nesting, wrong content types.
import fc from 'fast-check';

export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
}
export interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
export interface FuzzRequest {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
}

/** What the store holds, so generated requests reach real records as well as missing ones. */
export interface Known {
  ids: Record<string, number[]>;
  keys: Record<string, string[]>;
  words: string[];
}

const nastyText = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x\ud800y',
  '\udfff',
  'ok\r\nBcc: victim@example.com',
  '=1+1',
  '＝HYPERLINK("http://x")',
  '@SUM(A1)',
  '-2+3',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '0000-01-01T00:00:00Z',
  '2020-02-30',
  '2020-02-30T10:00:00Z',
  '9999-12-31T23:59:59Z',
  '1e3',
  '0x10',
  '-1',
  'NaN',
  'Infinity',
  '<img src=x onerror=alert(1)>',
  "'; drop table customers; --",
  '{{ 7*7 }}',
  '{% raw %}',
  '\u202eevil',
  '👩‍👩‍👧‍👦',
  'ǅ',
  'ß',
  '%00',
  '../../etc/passwd',
  'x'.repeat(5000),
  '\t',
  'null',
  'true',
  '{"a":1}',
];
const nastyNumbers = [
  0,
  -1,
  -0,
  0.5,
  1.5,
  1e21,
  5e-324,
  0.1 + 0.2,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  1e-7,
  36_501,
];
const deepObject = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
};
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...nastyText),
  fc.constantFrom(...nastyNumbers),
  fc.constantFrom(null, true, false, [], {}, [1, 'a'], { constructor: 1 }, deepObject(40)),
);
const nastyId = fc.constantFrom(
  '0',
  '-1',
  '1e3',
  '0x10',
  '1.0',
  ' 1',
  '99999999999999999999',
  '9007199254740993',
  'abc',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '１',
);

function instants(): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      '0000-01-01T00:00:00Z',
      '1899-12-31T23:59:59Z',
      '1900-01-01T00:00:00Z',
      '2999-12-31T23:59:59Z',
      '3000-01-01T00:00:00Z',
      '2020-02-29T12:00:00+14:00',
      '2020-02-30T10:00:00Z',
      'yesterday',
    ),
  );
}
const days = () =>
  fc.oneof(
    fc
      .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    fc.constantFrom('0000-01-01', '1899-12-31', '2999-12-31', '2020-02-30', '2021-02-29', '2024-13-01', '20240101'),
  );

/** A value for a JSON schema: conforming five times in six, else one of the classes above. */
export function valueFor(
  schema: Schema | undefined,
  components: Record<string, Schema>,
  known: Known,
  depth = 0,
): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: conforming(schema, components, known, depth) },
    { weight: 1, arbitrary: nastyValue },
  );
}

function conforming(
  schema: Schema | undefined,
  components: Record<string, Schema>,
  known: Known,
  depth: number,
): fc.Arbitrary<unknown> {
  if (!schema)
    return fc.oneof(
      fc.constantFrom(...known.words),
      fc.integer({ min: 0, max: 100 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'note'), fc.string(), { maxKeys: 2 }),
    );
  if (schema.$ref) {
    if (depth > 4) return fc.constant(schema.$ref.endsWith('SegmentRule') ? { match: 'all', conditions: [] } : {});
    return conforming(components[schema.$ref.split('/').pop()!], components, known, depth + 1);
  }
  const next = (s: Schema | undefined) => valueFor(s, components, known, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.oneOf ?? schema.anyOf;
  if (union) return fc.oneof(...union.map((s) => conforming(s, components, known, depth + 1)));
  if (schema.allOf) return conforming(Object.assign({}, ...schema.allOf), components, known, depth);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? (schema.properties ? 'object' : 'string')];
  if (types.length > 1)
    return fc.oneof(...types.map((type) => conforming({ ...schema, type }, components, known, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = Math.max(schema.minimum ?? -10, -1e6);
      const max = Math.min(schema.maximum ?? 1000, 1e6);
      return fc.oneof(
        fc.integer({ min, max }),
        fc.constantFrom(...Object.values(known.ids).flat().slice(0, 20), min, max),
      );
    }
    case 'number': {
      const min = Math.max(schema.minimum ?? -1000, -1e6);
      const max = Math.min(schema.maximum ?? 1e6, 1e6);
      return fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
        fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(0, 1, 12.5, 0.25),
      );
    }
    case 'array': {
      if (depth > 5) return fc.constant([]);
      const minLength = schema.minItems ?? 0;
      return fc.array(next(schema.items), { minLength, maxLength: Math.min(schema.maxItems ?? 3, minLength + 3) });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const required = (schema.required ?? []).filter((name) => name in properties);
      const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, next(s)]));
      const record = fc.record(model, { requiredKeys: required });
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const extra = fc.dictionary(
          fc.constantFrom(...known.words.filter((w) => /^[a-z_]{1,20}$/.test(w)), 'shoe_size', 'vip'),
          next(schema.additionalProperties),
          { maxKeys: 3 },
        );
        return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
      }
      return record;
    }
    default:
      return strings(schema, known);
  }
}

function strings(schema: Schema, known: Known): fc.Arbitrary<string> {
  if (schema.format === 'date-time') return instants();
  if (schema.format === 'date') return days();
  if (schema.format === 'email')
    return fc.oneof(fc.constantFrom(...known.words.filter((w) => w.includes('@'))), fc.emailAddress());
  if (schema.format === 'uri')
    return fc.constantFrom(
      'https://hooks.example.com/kept',
      'http://127.0.0.1/x',
      'http://[::7f00:1]/',
      'http://169.254.169.254/',
      'ftp://x',
      'not a url',
    );
  const max = Math.min(schema.maxLength ?? 40, 60);
  const min = Math.min(schema.minLength ?? 0, max);
  const sized = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity);
  const plain = fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
  if (schema.pattern) {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(schema.pattern);
    } catch {
      /* a pattern JavaScript cannot read: plain strings */
    }
    if (pattern)
      return fc.oneof(
        { weight: 3, arbitrary: fc.stringMatching(pattern).filter((s) => s.length <= 200) },
        { weight: 1, arbitrary: plain },
      );
  }
  const words = known.words.filter(sized);
  return words.length > 0
    ? fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...words) },
        { weight: 1, arbitrary: plain },
        { weight: 1, arbitrary: instants() },
      )
    : plain;
}

/** A path value: a record that exists (for the route's area), one that does not, or a malformed id. */
function pathValue(path: string, name: string, schema: Schema | undefined, known: Known): fc.Arbitrary<string> {
  const area = path.replace(/^\/api\/v1\//, '').split('/')[0];
  const real =
    schema?.type === 'integer'
      ? name === 'id' || name === 'customerId' || name === 'jobId'
        ? (known.ids[name === 'customerId' ? 'customers' : area] ?? [])
        : (known.ids[name] ?? [])
      : (known.keys[area] ?? []);
  return fc.oneof(
    { weight: 3, arbitrary: real.length > 0 ? fc.constantFrom(...real.map(String)) : fc.constant('1') },
    { weight: 1, arbitrary: fc.constant('424242') },
    { weight: 1, arbitrary: nastyId },
  );
}

/** Requests for one operation of the OpenAPI document. */
export function requestsFor(
  method: string,
  path: string,
  operation: Operation,
  components: Record<string, Schema>,
  known: Known,
): fc.Arbitrary<FuzzRequest> {
  const params = operation.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const url = fc
    .tuple(
      fc.tuple(...pathParams.map((p) => pathValue(path, p.name, p.schema, known))),
      fc.tuple(
        ...queryParams.map((p) =>
          fc.option(
            valueFor(p.schema, components, known).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
            { freq: 2 },
          ),
        ),
      ),
    )
    .map(([values, query]) => {
      let filled = path;
      pathParams.forEach((p, i) => {
        filled = filled.replace(`{${p.name}}`, values[i].includes('%') ? values[i] : encodeURIComponent(values[i]));
      });
      const search = new URLSearchParams();
      queryParams.forEach((p, i) => {
        if (query[i] !== null) search.append(p.name, query[i]!);
      });
      return search.size > 0 ? `${filled}?${search}` : filled;
    });
  const content = operation.requestBody?.content ?? {};
  if (content['application/json']) {
    const json = valueFor(content['application/json'].schema, components, known).map(
      (v) => JSON.stringify(v) ?? 'null',
    );
    const raw = fc.constantFrom(
      '',
      '{',
      'null',
      '[]',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      '{"a":"\\u0000"}',
      '{"a":"\\ud800"}',
    );
    const body = fc.oneof({ weight: 8, arbitrary: json }, { weight: 1, arbitrary: raw });
    const type = fc.oneof(
      { weight: 10, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-8',
        ),
      },
    );
    return fc.tuple(url, body, type).map(([u, b, t]) => ({ method, url: u, body: b, contentType: t }));
  }
  if (content['text/csv']) {
    const csv = fc
      .tuple(
        fc.constantFrom('customer,at,amount', 'customer;at;amount', 'email,name', 'a'),
        fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 4 }),
      )
      .map(([header, rows]) => `${header}\n${rows.join('\n')}`);
    return fc.tuple(url, csv).map(([u, b]) => ({ method, url: u, body: b, contentType: 'text/csv' }));
  }
  return url.map((u) => ({ method, url: u }));
}

/** Requests to the public pages a customer reaches from a link: tokens real, forged and malformed; forms with any values. */
export function publicRequests(known: Known): fc.Arbitrary<FuzzRequest> {
  const token = (kind: string) =>
    fc.oneof(
      fc.constantFrom(...(known.keys[kind] ?? ['x'])),
      fc.constantFrom('x', 'AAAA.BBBB', 'a%00b', '%ED%A0%80', '..', 'x'.repeat(3000)),
    );
  const form = fc
    .dictionary(
      fc.constantFrom(
        'score',
        'comment',
        'page',
        'satisfied',
        'recommend',
        'reason',
        'list',
        'marketing',
        'all',
        'q1',
        'q2',
      ),
      fc.oneof(fc.constantFrom(...nastyText), fc.integer({ min: -5, max: 12 }).map(String)),
      { maxKeys: 5 },
    )
    .map((values) => new URLSearchParams(values).toString());
  const page = fc.constantFrom('s', 'p', 'u').chain((kind) =>
    fc.tuple(fc.constantFrom('GET', 'POST'), token(kind), form).map(([method, t, body]) => ({
      method,
      url: `/${kind}/${t.includes('%') ? t : encodeURIComponent(t)}`,
      ...(method === 'POST' ? { body, contentType: 'application/x-www-form-urlencoded' } : {}),
    })),
  );
  const tracking = fc
    .tuple(fc.constantFrom('o', 'c'), token('t'))
    .map(([kind, t]) => ({ method: 'GET', url: `/t/${kind}/${t.includes('%') ? t : encodeURIComponent(t)}` }));
  const feedback = fc.tuple(fc.constantFrom('GET', 'POST'), form).map(([method, body]) => ({
    method,
    url: `/feedback?page=${encodeURIComponent(body.slice(0, 50))}`,
    ...(method === 'POST' ? { body, contentType: 'application/x-www-form-urlencoded' } : {}),
  }));
  const app = fc
    .constantFrom('/', '/customers/1', '/%00', '/assets/x.js', '/api', '/index.html?x=%00')
    .map((url) => ({ method: 'GET', url }));
  return fc.oneof(page, tracking, feedback, app);
}
