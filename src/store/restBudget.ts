import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/**
 * One request from a portal's shared Bitrix24 budget (a leaky bucket: drains `rate` per
 * second, holds `burst`). Returns how long the caller must wait before sending (0 = now).
 * The row lock serializes instances, so together they never spend more than the portal's
 * budget; `penalize` fills the bucket when Bitrix24 says we were over after all.
 */
export async function takeRestSlot(
  conn: Connection,
  portalId: string,
  limits: { rate: number; burst: number },
  now: number,
  penalize = false,
): Promise<number> {
  return conn.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('rest_budgets')
      .values({ portal_id: portalId, level: 0, at: now })
      .onConflict((oc) => oc.column('portal_id').doNothing())
      .execute();
    const row = await trx
      .updateTable('rest_budgets')
      .set({ level: sql`level` })
      .where('portal_id', '=', portalId)
      .returning(['level', 'at'])
      .executeTakeFirstOrThrow();
    const drained = Math.max(0, row.level - ((now - Number(row.at)) / 1000) * limits.rate);
    const level = penalize ? Math.max(drained, limits.burst) : drained + 1;
    await trx
      .updateTable('rest_budgets')
      .set({ level, at: now })
      .where('portal_id', '=', portalId)
      .execute();
    if (penalize) return 0;
    return Math.max(0, Math.ceil(((level - limits.burst) / limits.rate) * 1000));
  });
}
