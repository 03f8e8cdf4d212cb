import fs from 'node:fs';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../shared/errors.ts';
import { textProblem } from '../shared/input.ts';
import type { Encoding } from './import-options.ts';

export { encodings, type Encoding } from './import-options.ts';
export type Delimiter = ',' | ';' | '\t';

export interface CsvRecord {
  /** 1-based data row (the header is not counted). */
  row: number;
  /** Line of the file where the record starts (quoted newlines make records span lines). */
  line: number;
  /** How many lines of the file it spans. */
  lines: number;
  values: string[];
}

/**
 * The longest row Kept reads, in bytes of the file. A longer one (a cell of megabytes, a quote that is
 * never closed) stops the import before anything is written, so memory stays bounded whatever the file holds.
 */
export const maxRowBytes = 4 * 1024 * 1024;
const megabytes = (bytes: number) => `${bytes / 1024 / 1024} MB`;
const quoteByte = 0x22;
const crByte = 0x0d;
const lfByte = 0x0a;

/** Where the first byte that is not UTF-8 is, or -1; a character that runs past the end is not judged. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return -1;
      const next = bytes[i + k];
      if (next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}

/** The bytes at the end of a valid chunk that begin a character the next chunk finishes. */
function unfinishedCharacter(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.slice(bytes.length - back) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

/**
 * Reads the whole file once before anything is written and stops, naming the line, when it is not
 * UTF-8 (decoding it anyway would silently turn characters into U+FFFD), when a row is longer than
 * maxRowBytes, when a quote is never closed (the rest of the file would be one cell) or when a
 * quoted cell goes on after its closing quote. Rows are found as csv-parse finds them with the
 * options readCsv gives it: a quote opens a quoted cell only as the cell's first character (else it
 * is a character), "" inside one is a quote; CRLF, LF and CR end lines; empty lines are no rows.
 */
export async function checkFile(file: string, options: { encoding: Encoding; delimiter: Delimiter }): Promise<void> {
  const utf8 = options.encoding === 'utf-8';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const delimiter = options.delimiter.charCodeAt(0);
  let state: 'start' | 'unquoted' | 'quoted' | 'quote in quoted' = 'start';
  let line = 1;
  let afterCr = false;
  let rows = 0; // rows ended, the header included
  let empty = true; // the current row has no byte yet (an empty line is no row)
  let rowLine = 1;
  let rowBytes = 0;
  let quoteLine = 1;
  let offset = 0;
  let carried: Uint8Array = new Uint8Array(0);
  const where = () => (rows === 0 ? `the header (line ${rowLine})` : `data row ${rows} (line ${rowLine})`);
  const notUtf8 = (at: number) =>
    new AppError(
      'bad_request',
      `the file is not UTF-8: invalid bytes on line ${line} (near byte ${at}). ` +
        'If it was saved by Excel or an older system, run again with --encoding windows-1252 (or latin1).',
    );
  const unclosed = (reason: string) =>
    new AppError(
      'bad_request',
      `the file cannot be read: the quote that opens a cell on line ${quoteLine} (${where()}) ${reason}, so the rest of the file would be one cell. ` +
        'Close the quote; a quote inside a quoted cell is written twice ("").',
    );

  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let bytes: Uint8Array = chunk;
    let end = chunk.length;
    let invalid = -1;
    if (utf8) {
      // A BOM is no part of the first cell: the decoder readCsv uses drops it.
      if (offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        bytes = chunk.subarray(3);
        end -= 3;
        offset += 3;
      }
      try {
        decoder.decode(bytes, { stream: true });
        carried = unfinishedCharacter(bytes);
      } catch {
        const joined = Buffer.concat([carried, bytes]);
        invalid = Math.max(0, firstInvalidUtf8(joined) - carried.length);
        end = invalid;
      }
    }
    for (let i = 0; i < end; i++) {
      const byte = bytes[i];
      if (byte === lfByte && afterCr) {
        // The LF of a CRLF: the CR ended the line (and the row, outside quotes).
        afterCr = false;
        if (state === 'quoted') rowBytes++;
        continue;
      }
      afterCr = byte === crByte;
      const lineEnd = afterCr || byte === lfByte;
      if (lineEnd) line++;
      if (state === 'quote in quoted') {
        if (byte === quoteByte) {
          state = 'quoted';
          rowBytes++;
          continue;
        }
        if (byte === delimiter) {
          state = 'start';
          rowBytes++;
          continue;
        }
        // Where this quoted cell ends, and so where the rows after it begin, is anyone's guess.
        if (!lineEnd) {
          throw new AppError(
            'bad_request',
            `the file cannot be read: the cell quoted from line ${quoteLine} (${where()}) goes on after its closing quote on line ${line}, ` +
              'so where it ends is unclear. A quote inside a quoted cell is written twice ("").',
          );
        }
      }
      if (state === 'quoted') {
        if (byte === quoteByte) state = 'quote in quoted';
      } else if (lineEnd) {
        if (!empty) rows++;
        empty = true;
        rowBytes = 0;
        state = 'start';
        continue;
      } else {
        if (empty) {
          empty = false;
          rowLine = line;
        }
        if (byte === delimiter) state = 'start';
        else if (byte === quoteByte && state === 'start') {
          state = 'quoted';
          quoteLine = line;
        } else state = 'unquoted';
      }
      if (++rowBytes > maxRowBytes) {
        if (state === 'quoted') throw unclosed(`is not closed within ${megabytes(maxRowBytes)}`);
        throw new AppError(
          'bad_request',
          `${where()} is longer than ${megabytes(maxRowBytes)}, the longest row Kept reads: ` +
            'shorten its cells or leave the long column out of the file',
        );
      }
    }
    if (invalid >= 0) throw notUtf8(offset + invalid);
    offset += end;
  }
  if (utf8) {
    try {
      decoder.decode();
    } catch {
      throw notUtf8(offset - carried.length);
    }
  }
  if (state === 'quoted') throw unclosed('is never closed');
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
    return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/, 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/**
 * The line breaks (CRLF, LF or CR) of a record's raw text, and how many come before its first
 * character: the empty lines skipped before it. A loop, not a regular expression: it runs for every row.
 */
function lineBreaks(raw: string): { breaks: number; before: number } {
  let breaks = 0;
  let before = -1;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 13 || code === 10) {
      if (code === 13 || raw.charCodeAt(i - 1) !== 13) breaks++;
    } else if (before < 0) before = breaks;
  }
  return { breaks, before: before < 0 ? breaks : before };
}

/**
 * Streams a CSV file as records with their row numbers, once checkFile found it readable: any
 * encoding TextDecoder knows, BOM, CRLF, LF or CR line ends, quoted newlines, comma, semicolon or
 * tab (sniffed from the header when not given). `onBytes` reports how far into the file the reader
 * is, for progress. Nothing is written before it returns, so what it refuses leaves no trace.
 */
export async function readCsv(
  file: string,
  options: { encoding: Encoding; delimiter?: Delimiter; onBytes?: (bytes: number) => void },
): Promise<{ header: string[]; delimiter: Delimiter; records: AsyncGenerator<CsvRecord> }> {
  const delimiter = options.delimiter ?? sniffDelimiter(await firstLine(file, options.encoding));
  await checkFile(file, { encoding: options.encoding, delimiter });
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
  // A quote inside a cell that does not start with one is a character (12" pizza), as spreadsheets read
  // it; checkFile has refused quoted cells that go on after their closing quote, and rows longer than
  // max_record_size, before anything was written.
  const parser = fs
    .createReadStream(file, { highWaterMark: 1 << 20 })
    .pipe(decode)
    .pipe(
      parse({
        bom: true,
        delimiter,
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        raw: true,
        record_delimiter: ['\r\n', '\n', '\r'],
        max_record_size: maxRowBytes,
      }),
    );
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; raw: string }>;
  const first = await iterator.next();
  if (first.done) throw new AppError('bad_request', 'the file is empty: it has no header line');
  const header = first.value.record.map((name) => name.trim());
  header.forEach((name, index) => {
    const problem = textProblem(name);
    // A file saved as UTF-16 ("Unicode text") without a BOM reads as UTF-8 with a NUL after every letter.
    if (problem) {
      throw new AppError(
        'bad_request',
        `column ${index + 1} of the header ${problem}` +
          (name.includes('\u0000')
            ? '; a file saved as "Unicode text" (UTF-16) looks like this: save it as "CSV UTF-8"'
            : ''),
      );
    }
  });
  async function* records(): AsyncGenerator<CsvRecord> {
    let row = 0;
    // The raw text of a record holds the empty lines skipped before it and its own line end (the
    // CR of a CRLF, the LF then skipped): a record starts after the leading ones.
    let line = 1 + lineBreaks(first.value.raw).breaks;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        row++;
        const { raw } = next.value;
        const { breaks, before } = lineBreaks(raw);
        const ended = /[\r\n]$/.test(raw) ? 1 : 0;
        yield { row, line: line + before, lines: breaks - before - ended + 1, values: next.value.record };
        line += breaks;
      }
    } catch (error) {
      throw new AppError('bad_request', `the file cannot be read past data row ${row}: ${(error as Error).message}`);
    }
  }
  return { header, delimiter, records: records() };
}
