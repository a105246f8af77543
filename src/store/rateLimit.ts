import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/**
 * Reserves the next start slot of a limiter shared by every instance on this database.
 * Slots are spaced `intervalMs` apart (1000 / rate), so no 1 s window holds more than
 * `rate` starts. One UPDATE … RETURNING is atomic on both backends (row lock on PostgreSQL,
 * single writer on SQLite), so two instances can never take the same slot.
 * Returns the epoch ms at which the caller may start its request.
 */
export async function reserveSlot(conn: Connection, key: string, intervalMs: number, now: number): Promise<number> {
  const greatest = sql.raw(conn.caps.greatest);
  const row = await conn.db
    .updateTable('rate_limits')
    .set({ next_at: sql<number>`${greatest}(next_at, ${now}) + ${intervalMs}` })
    .where('key', '=', key)
    .returning('next_at')
    .executeTakeFirst();
  if (row) return Number(row.next_at) - intervalMs;
  await conn.db.insertInto('rate_limits').values({ key, next_at: 0 }).onConflict((oc) => oc.column('key').doNothing()).execute();
  return reserveSlot(conn, key, intervalMs, now);
}
