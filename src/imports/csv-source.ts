import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../shared/errors.ts';

export const encodings = ['utf-8', 'windows-1252', 'latin1'] as const;
export type Encoding = (typeof encodings)[number];
export type Delimiter = ',' | ';' | '\t';

export interface CsvRecord {
  /** 1-based data row (the header is not counted). */
  row: number;
  /** Line of the file where the record starts (quoted newlines make records span lines). */
  line: number;
  values: string[];
}

/**
 * Stops before anything is written when the file is not valid UTF-8, naming the line, since
 * decoding it as UTF-8 would silently turn characters into U+FFFD.
 */
export async function assertUtf8(file: string): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let lines = 1;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      // Find the first line of this chunk that is not valid on its own (lines never split a character).
      let start = 0;
      for (;;) {
        const end = chunk.indexOf(10, start);
        const piece = chunk.subarray(start, end < 0 ? chunk.length : end);
        if (!isUtf8(piece) && (end >= 0 || !isUtf8(piece.subarray(0, Math.max(0, piece.length - 3))))) break;
        if (end < 0) break;
        lines++;
        start = end + 1;
      }
      throw new AppError('bad_request',
        `the file is not UTF-8: invalid bytes on line ${lines} (near byte ${offset + start}). ` +
        'If it was saved by Excel or an older system, run again with --encoding windows-1252 (or latin1).');
    }
    for (const byte of chunk) if (byte === 10) lines++;
    offset += chunk.length;
  }
}

/** The delimiter used most often, outside quotes, in the header line. */
export function sniffDelimiter(headerLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char in counts) counts[char as Delimiter]++;
  }
  const [best, seen] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return (seen > 0 ? best : ',') as Delimiter;
}

async function firstLine(file: string, encoding: Encoding): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = new TextDecoder(encoding).decode(buffer.subarray(0, bytesRead));
    return text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/**
 * Streams a CSV file as records with their row numbers: any encoding TextDecoder knows, BOM,
 * CRLF, quoted newlines, comma, semicolon or tab (sniffed from the header when not given).
 * `onBytes` reports how far into the file the reader is, for progress.
 */
export async function readCsv(
  file: string,
  options: { encoding: Encoding; delimiter?: Delimiter; onBytes?: (bytes: number) => void },
): Promise<{ header: string[]; delimiter: Delimiter; records: AsyncGenerator<CsvRecord> }> {
  const delimiter = options.delimiter ?? sniffDelimiter(await firstLine(file, options.encoding));
  const decoder = new TextDecoder(options.encoding);
  let bytes = 0;
  const decode = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      options.onBytes?.(bytes);
      done(null, decoder.decode(chunk, { stream: true }));
    },
    flush(done) {
      done(null, decoder.decode());
    },
  });
  const parser = fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(decode).pipe(parse({
    bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, raw: true,
  }));
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; raw: string }>;
  const first = await iterator.next();
  if (first.done) throw new AppError('bad_request', 'the file is empty: it has no header line');
  const header = first.value.record.map((name) => name.trim());
  async function* records(): AsyncGenerator<CsvRecord> {
    let row = 0;
    // A record starts on the line after everything read before it (quoted newlines included).
    // (raw text comes with or without its record delimiter depending on CRLF, so it is cut off).
    const linesOf = (raw: string) => raw.replace(/\r?\n$/, '').split('\n').length;
    let line = 1 + linesOf(first.value.raw);
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        row++;
        yield { row, line, values: next.value.record };
        line += linesOf(next.value.raw);
      }
    } catch (error) {
      throw new AppError('bad_request', `the file cannot be read past data row ${row}: ${(error as Error).message}`);
    }
  }
  return { header, delimiter, records: records() };
}
