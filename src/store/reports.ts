import type { Connection } from './dialects/types.js';
import { runHot } from './hotSql.js';
import type { Message } from './outbox.js';

/**
 * Finds the message a report is about: by our extra_id first, then by MTS message_id. Every
 * delivery report runs this and saveReport: constant SQL (see hotSql.ts).
 */
export async function findMessageForReport(
  conn: Connection,
  extraId?: string,
  mtsMessageId?: string,
): Promise<Message | undefined> {
  if (extraId) {
    const r = await runHot<Message>(conn, 'select * from messages where id = ?', [extraId]);
    if (r.rows[0]) return r.rows[0];
  }
  if (mtsMessageId) {
    const r = await runHot<Message>(conn, 'select * from messages where mts_message_id = ?', [
      mtsMessageId,
    ]);
    return r.rows[0];
  }
  return undefined;
}

/** Keeps every report as received (audit trail, support questions). */
export async function saveReport(
  conn: Connection,
  r: {
    messageId: string | null;
    mtsMessageId: string | null;
    source: 'dlr' | 'poll' | 'lookup';
    body: unknown;
  },
  now: number,
): Promise<void> {
  await runHot(
    conn,
    'insert into delivery_reports (message_id, mts_message_id, source, body, received_at) values (?, ?, ?, ?, ?)',
    [r.messageId, r.mtsMessageId, r.source, JSON.stringify(r.body), now],
  );
}

export function reportsFor(conn: Connection, messageId: string) {
  return conn.db
    .selectFrom('delivery_reports')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('id')
    .execute();
}

/** Accepted messages with no final state whose next poll is due. */
export function duePolls(conn: Connection, now: number, limit: number): Promise<Message[]> {
  return conn.db
    .selectFrom('messages')
    .selectAll()
    .where('next_poll_at', '<=', now)
    .where('state', 'in', ['ACCEPTD', 'UNKNOWN'])
    .orderBy('next_poll_at')
    .limit(limit)
    .execute();
}

/** Schedules the next poll of a message that is still without a final state. */
export async function schedulePoll(
  conn: Connection,
  id: string,
  at: number,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('messages')
    .set((eb) => ({ next_poll_at: at, polls: eb('polls', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('state', 'in', ['ACCEPTD', 'UNKNOWN'])
    .execute();
}
