import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/**
 * The next virtual time of a flow (contract, lane, portal, campaign): `step` after the flow's
 * last one, but never before `base` (now or the message's send time). Ordering a lane by it
 * interleaves flows — a 10,000-message mailing of one portal does not hold up another's.
 */
export async function nextVirtualTime(
  conn: Connection,
  flowKey: string,
  base: number,
  step: number,
): Promise<number> {
  const row = await conn.db
    .insertInto('flows')
    .values({ key: flowKey, last_vt: base })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        last_vt: sql<number>`${sql.raw(conn.caps.greatest)}(excluded.last_vt, flows.last_vt + ${step})`,
      }),
    )
    .returning('last_vt')
    .executeTakeFirstOrThrow();
  return Number(row.last_vt);
}
