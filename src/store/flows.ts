import type { Connection } from './dialects/types.js';
import { runHot } from './hotSql.js';

const upsert = (greatest: string) =>
  `insert into flows (key, last_vt) values (?, ?) on conflict (key) do update set last_vt = ${greatest}(excluded.last_vt, flows.last_vt + ?) returning last_vt`;
const UPSERT = { max: upsert('max'), greatest: upsert('greatest') };

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
  const r = await runHot<{ last_vt: number }>(conn, UPSERT[conn.caps.greatest], [
    flowKey,
    base,
    step,
  ]);
  const row = r.rows[0];
  if (!row) throw new Error(`flow ${flowKey}: the upsert returned no row`);
  return Number(row.last_vt);
}
