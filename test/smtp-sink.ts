// A real SMTP server on a free local port that keeps what it is sent, for tests and the send benchmark.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  to: string;
  raw: Buffer;
  parse(): Promise<ParsedMail>;
}
export interface SmtpSink {
  url: string;
  messages: SinkMessage[];
  /** Called for each message as it arrives (after it is accepted). */
  onMessage?: (message: SinkMessage) => void;
  /** Recipients the server refuses for good (550). */
  refuse: Set<string>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { keep?: boolean } = {}): Promise<SmtpSink> {
  const keep = options.keep ?? true;
  const sink: SmtpSink = { url: '', messages: [], refuse: new Set(), close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      if (sink.refuse.has(address.address.toLowerCase())) {
        const error = new Error('No such user here') as Error & { responseCode: number };
        error.responseCode = 550;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (keep) chunks.push(chunk);
      });
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        for (const to of session.envelope.rcptTo) {
          const message = { to: to.address.toLowerCase(), raw, parse: () => simpleParser(raw) };
          sink.messages.push(message);
          sink.onMessage?.(message);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  sink.close = () => new Promise((resolve) => server.close(() => resolve()));
  return sink;
}
