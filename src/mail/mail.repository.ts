// Mail captured instead of sent (captured_mail, campaigns/campaign.schema.ts), for the UI to show.
import { sql, type Db } from '../db/connection.ts';
import type { OutgoingMessage } from './mailer.ts';

/** Keeps a message as it would have gone out, its Message-ID among the headers. */
export async function captureMail(db: Db, message: OutgoingMessage): Promise<void> {
  const headers = { ...message.headers, 'Message-ID': message.messageId };
  await db.execute(sql`insert into captured_mail (at, "to", subject, headers, html, text)
    values (now(), ${message.to}, ${message.subject}, ${JSON.stringify(headers)}::jsonb, ${message.html}, ${message.text})`);
}
