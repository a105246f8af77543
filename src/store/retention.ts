import type { Connection } from './dialects/types.js';

/**
 * Deletes up to `batch` final messages that became final before `before`, with their delivery
 * reports. Small batches keep each transaction (and the SQLite writer lock) short, so intake
 * never waits long behind retention. Returns how many messages were deleted.
 */
export async function deleteFinalBefore(
  conn: Connection,
  before: number,
  batch: number,
): Promise<number> {
  return conn.db.transaction().execute(async (trx) => {
    // Only messages with nothing left to do: final, and their status already in Bitrix24.
    const ids = (
      await trx
        .selectFrom('messages')
        .select('id')
        .where('final_at', '<', before)
        .where('push_pending', '=', 0)
        .orderBy('final_at')
        .limit(batch)
        .execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    await trx.deleteFrom('delivery_reports').where('message_id', 'in', ids).execute();
    await trx.deleteFrom('message_events').where('message_id', 'in', ids).execute();
    // A robot job that pointed at the message is finished too (its answer was sent or given up).
    await trx
      .deleteFrom('robot_jobs')
      .where('message_id', 'in', ids)
      .where('event_state', '>=', 2)
      .execute();
    const r = await trx.deleteFrom('messages').where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  });
}

/** Flows idle since `before` (their virtual time is in the past and nothing refers to it). */
export async function deleteIdleFlows(conn: Connection, before: number): Promise<number> {
  const r = await conn.db.deleteFrom('flows').where('last_vt', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Reports about messages we never knew (unknown ids) older than `before`. */
export async function deleteOrphanReports(conn: Connection, before: number): Promise<number> {
  const r = await conn.db
    .deleteFrom('delivery_reports')
    .where('message_id', 'is', null)
    .where('received_at', '<', before)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
