import { randomBytes } from 'node:crypto';
import { marketing } from '../auth/access.ts';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRoute, z } from '@hono/zod-openapi';
import { auditBy } from '../audit/index.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { startJob } from '../jobs/job.service.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter, invalidRequest, issuesOf, pathParam } from '../shared/http.ts';
import { encodings, type Delimiter } from './csv-source.ts';
import { importJobSchema, importKinds, parseMap, type ImportJob, type ImportJobPayload } from './import.ts';
import { importJobs, importOfJob, type ImportJobRow } from './import.service.ts';
import { id } from '../shared/input.ts';

/** The largest file the server takes in one upload; bigger files go through `kept import`. */
export const uploadLimitBytes = 2 * 1024 ** 3;
const delimiters = { comma: ',', semicolon: ';', tab: '\t' } as const satisfies Record<string, Delimiter>;

/** The options of an upload, in its query string as for `kept import`. */
const uploadQuery = z.object({
  kind: z.enum(importKinds),
  fileName: z
    .string()
    .max(255)
    .optional()
    .openapi({ description: 'The name the upload is shown with; at most 255 characters' }),
  map: z.string().optional().openapi({ example: 'customer=masterid,at=date,amount=sales' }),
  dateFormat: z.string().max(100).optional(),
  delimiter: z.enum(['comma', 'semicolon', 'tab']).optional(),
  encoding: z.enum(encodings).default('utf-8'),
});
// Kept adds a time and a random part; the name's own part is cut to stay far below the 255 bytes a file name can have.
const storedNameLength = 100;

const toStatus = (r: ImportJobRow): ImportJob => ({
  jobId: r.job_id,
  status: r.status,
  fileName: r.payload.fileName,
  kind: r.payload.kind,
  done: r.done,
  total: r.total,
  error: r.job_error ?? r.import_error,
  createdAt: new Date(r.created_at).toISOString(),
  finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
  importId: r.import_id,
  counts: r.counts,
});

export function importRoutes(deps: Deps) {
  const app = createRouter();

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/imports',
    tags: ['imports'],
    security: [{ bearer: [] }],
    summary: 'Upload a CSV file; it is imported by a background job with progress',
    description: `The request body is the file itself (any content type); options go in the query string, as for \`kept import\`.
Answers 202 with the job; follow it at \`GET /imports/{jobId}\`. Up to ${uploadLimitBytes / 1024 ** 3} GB per upload (413 above).
The same file uploaded again changes nothing; a job interrupted by a restart resumes from its last checkpoint.`,
    request: {
      query: uploadQuery,
      body: { content: { 'text/csv': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
    },
    responses: { 202: { description: 'The job', content: { 'application/json': { schema: importJobSchema } } } },
  });
  app.post('/imports', marketing, async (c) => {
    // Not an openapi() route: the body is the file, streamed to disk, never parsed; the query is checked as such a route would.
    const parsed = uploadQuery.safeParse(c.req.query());
    if (!parsed.success) throw invalidRequest(issuesOf(parsed.error, 'query'));
    const { kind, delimiter, encoding } = parsed.data;
    let map: Record<string, string>;
    try {
      map = parseMap(parsed.data.map || undefined);
    } catch (error) {
      throw invalidRequest([{ path: 'map', message: (error as Error).message }]);
    }
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > uploadLimitBytes)
      throw new AppError('payload_too_large', `the file is ${declared} bytes; uploads take up to ${uploadLimitBytes}`, {
        issues: [{ path: 'body', message: `at most ${uploadLimitBytes} bytes` }],
      });
    if (!c.req.raw.body)
      throw new AppError('bad_request', 'the request body must be the CSV file', {
        issues: [{ path: 'body', message: 'the CSV file' }],
      });

    const fileName = path.basename(parsed.data.fileName || 'upload.csv');
    const folder = path.join(deps.config.dataDir, 'uploads');
    fs.mkdirSync(folder, { recursive: true });
    // The end of the name is kept: it has the extension.
    const file = path.join(
      folder,
      `${Date.now()}-${randomBytes(4).toString('hex')}-${fileName.replace(/[^\w.-]+/g, '_').slice(-storedNameLength)}`,
    );
    let size = 0;
    try {
      // Streamed to disk, never held in memory; counted so a body without Content-Length is held to the limit.
      await pipeline(
        Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream),
        async function* (chunks) {
          for await (const chunk of chunks as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > uploadLimitBytes)
              throw new AppError('payload_too_large', `the file is over ${uploadLimitBytes} bytes`, {
                issues: [{ path: 'body', message: `at most ${uploadLimitBytes} bytes` }],
              });
            yield chunk;
          }
        },
        fs.createWriteStream(file),
      );
    } catch (error) {
      fs.rmSync(file, { force: true });
      throw error;
    }
    if (size === 0) {
      fs.rmSync(file, { force: true });
      throw new AppError('validation_failed', 'the file is empty', {
        issues: [{ path: 'body', message: 'a CSV file with a header row' }],
      });
    }
    const payload: ImportJobPayload = {
      kind,
      file,
      fileName,
      map,
      encoding,
      by: principalName(c.get('principal')),
      ...(parsed.data.dateFormat ? { dateFormat: parsed.data.dateFormat } : {}),
      ...(delimiter ? { delimiter: delimiters[delimiter] } : {}),
    };
    let jobId: number;
    try {
      jobId = await startJob(deps, 'import', payload);
    } catch (error) {
      fs.rmSync(file, { force: true });
      throw error;
    }
    await auditBy(deps, c, 'import.uploaded', `${kind} from ${fileName}`, { jobId, bytes: size });
    const [row] = await importJobs(deps, { jobId, limit: 1 });
    return c.json(toStatus(row), 202);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/imports',
      middleware: marketing,
      tags: ['imports'],
      summary: 'Uploads and their imports, newest first',
      responses: {
        200: {
          description: 'Up to 100',
          content: { 'application/json': { schema: z.object({ imports: z.array(importJobSchema) }) } },
        },
      },
    }),
    async (c) => c.json({ imports: (await importJobs(deps, { limit: 100 })).map(toStatus) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/imports/{jobId}',
      middleware: marketing,
      tags: ['imports'],
      summary: 'One upload: status, progress in bytes, counts',
      request: { params: z.object({ jobId: id }) },
      responses: { 200: { description: 'The job', content: { 'application/json': { schema: importJobSchema } } } },
    }),
    async (c) => {
      const [row] = await importJobs(deps, { jobId: c.req.valid('param').jobId, limit: 1 });
      if (!row) throw new AppError('not_found', 'No such upload');
      return c.json(toStatus(row), 200);
    },
  );

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/imports/{jobId}/rejected',
    tags: ['imports'],
    security: [{ bearer: [] }],
    summary: 'The rejected rows of an upload as CSV: the original columns, then row, line and reason',
    request: { params: z.object({ jobId: id }) },
    responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } } },
  });
  app.get('/imports/:jobId/rejected', marketing, async (c) => {
    const row = await importOfJob(deps, pathParam(c, 'jobId', id));
    if (!row?.rejected_file || !fs.existsSync(row.rejected_file))
      throw new AppError('not_found', 'This upload has no rejected rows file');
    await auditBy(deps, c, 'export.rejected_rows', `import #${row.id}`, { bytes: row.rejected_bytes });
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', `attachment; filename="import-${row.id}-rejected.csv"`);
    return c.body(
      Readable.toWeb(
        fs.createReadStream(row.rejected_file, { start: 0, end: Math.max(0, row.rejected_bytes - 1) }),
      ) as ReadableStream,
    );
  });
  return app;
}
