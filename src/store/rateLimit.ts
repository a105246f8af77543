import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/** The window is also checked in this many slices (see below). */
const SLICES = 10;

export type WindowDecision = { go: true } | { go: false; retryAt: number };

/**
 * A sliding-window limiter shared by every instance on this database: a request may start
 * when fewer than `limit` requests started in the last `windowMs`; its actual start time is
 * then recorded. Recording the real decision time (not a slot reserved in advance) means a
 * request that wakes late cannot end up closer than `windowMs` to the one `limit` places
 * after it. The UPDATE on the limiter's row takes a write lock (row lock on PostgreSQL,
 * the writer lock on SQLite), so concurrent decisions are serialized.
 */
export async function tryStart(
  conn: Connection,
  key: string,
  limit: number,
  windowMs: number,
  now: () => number,
): Promise<WindowDecision> {
  const windowUs = Math.ceil(windowMs * 1000);
  return conn.db.transaction().execute(async (trx) => {
    const locked = await trx
      .updateTable('rate_limits')
      .set({ next_at: sql`next_at` })
      .where('key', '=', key)
      .executeTakeFirst();
    if (Number(locked.numUpdatedRows) === 0) {
      await trx
        .insertInto('rate_limits')
        .values({ key, next_at: 0 })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      await trx
        .updateTable('rate_limits')
        .set({ next_at: sql`next_at` })
        .where('key', '=', key)
        .execute();
    }
    // Read the time only once the lock is held: waiting for the lock is not starting, and a
    // time read before the wait would let the window admit requests too early.
    const nowUs = Math.floor(now() * 1000);
    // Housekeeping inside the lock keeps the table at about `limit` rows per key.
    await trx
      .deleteFrom('rate_events')
      .where('key', '=', key)
      .where('at', '<=', nowUs - windowUs)
      .execute();
    const recent = await trx
      .selectFrom('rate_events')
      .select('at')
      .where('key', '=', key)
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();
    // Smoothing: at most a tenth of the limit per tenth of the window, so the window's
    // budget is not spent in one burst (a burst delays its own last requests on the way out,
    // which eats into the jitter headroom).
    const slice = Math.max(1, Math.ceil(limit / SLICES));
    const sliceUs = windowUs / SLICES;
    const inSlice = recent.filter((r) => Number(r.at) > nowUs - sliceUs);
    if (recent.length < limit && inSlice.length < slice) {
      await trx.insertInto('rate_events').values({ key, at: nowUs }).execute();
      return { go: true } as const;
    }
    if (recent.length < limit) {
      const sliceOldest = Number(inSlice[slice - 1]?.at ?? nowUs);
      return { go: false, retryAt: (sliceOldest + sliceUs) / 1000 + 1 } as const;
    }
    const oldest = Number(recent[recent.length - 1]?.at);
    return { go: false, retryAt: (oldest + windowUs) / 1000 + 1 } as const;
  });
}
