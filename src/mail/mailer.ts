// How Kept hands a message over: to the configured SMTP server (a pool of connections), or, without
// one, into the captured_mail table where the UI shows it (development and the demo).
import nodemailer from 'nodemailer';
import type { Db } from '../db/connection.ts';
import type { MailConfig } from '../config.ts';
import { captureMail } from './mail.repository.ts';

/** Connections to the SMTP server, and so messages in flight at once. */
export const smtpConnections = 5;

export interface OutgoingMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  messageId: string;
}
export interface Mailer {
  readonly kind: 'smtp' | 'capture';
  /** Resolves once the server accepted the message; rejects with the server's answer. */
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/** An SMTP answer that will not change on retry (5xx): the address or message is refused. */
export const isPermanent = (error: unknown) => {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500;
};

export function createMailer(config: MailConfig, db: Db): Mailer {
  if (!config.smtpUrl) {
    return {
      kind: 'capture',
      send: (m) => captureMail(db, m),
      close() {},
    };
  }
  const url = new URL(config.smtpUrl);
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: smtpConnections,
    maxMessages: 1000,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // A local server (a sink in tests, a relay on the same host) may offer STARTTLS with a self-signed certificate.
    tls: { rejectUnauthorized: !['127.0.0.1', 'localhost', '::1'].includes(url.hostname) },
  });
  return {
    kind: 'smtp',
    async send(m) {
      await transport.sendMail({
        from: config.from,
        to: m.to,
        subject: m.subject,
        html: m.html,
        text: m.text,
        headers: m.headers,
        messageId: m.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}
