import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';

/**
 * A message's history (issue 11): every move the sender made with its MTS answer, and every
 * status push to Bitrix24 with its result, one row each, written in the same transaction as
 * the move. The handler's POST is the message row itself; each delivery report and lookup
 * answer is already a row of `delivery_reports`. And an index to find messages by number.
 */
export function historyMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('message_events')
        .addColumn('id', sql.raw(caps.autoIncrement) as never)
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('at', ts, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('message_events_message')
        .on('message_events')
        .columns(['message_id', 'id'])
        .execute();
      await db.schema
        .createIndex('messages_phone')
        .on('messages')
        .columns(['phone', 'created_at'])
        .execute();
    },
  };
}
