import type { Connection } from './dialects/types.js';
import { runHot } from './hotSql.js';

/** The steps of a message's history kept in `message_events` (see migrations/0009_history.ts). */
export type MessageEventKind = 'accept' | 'requeue' | 'fail' | 'hold' | 'push' | 'push-refused';

export interface MessageEvent {
  messageId: string;
  kind: MessageEventKind;
  at: number;
  detail: Record<string, unknown>;
}

/** Records one step; runs on every send outcome and push, so constant SQL (see hotSql.ts). */
export async function addEvent(conn: Connection, e: MessageEvent): Promise<void> {
  await runHot(
    conn,
    'insert into message_events (message_id, at, kind, detail) values (?, ?, ?, ?)',
    [e.messageId, e.at, e.kind, JSON.stringify(e.detail)],
  );
}

/** Records several steps in one statement (a status push batch's outcomes). */
export async function addEvents(conn: Connection, events: readonly MessageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 200)
    await conn.db
      .insertInto('message_events')
      .values(
        events.slice(i, i + 200).map((e) => ({
          message_id: e.messageId,
          at: e.at,
          kind: e.kind,
          detail: JSON.stringify(e.detail),
        })),
      )
      .execute();
}

/** A message's steps, oldest first. */
export async function eventsFor(conn: Connection, messageId: string): Promise<MessageEvent[]> {
  const rows = await conn.db
    .selectFrom('message_events')
    .select(['message_id', 'kind', 'at', 'detail'])
    .where('message_id', '=', messageId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    messageId: r.message_id,
    kind: r.kind as MessageEventKind,
    at: Number(r.at),
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}
