import type { Bitrix24ClientOptions } from '../bitrix24/client.js';
import type { BucketLimits } from '../bitrix24/leakyBucket.js';
import type { Clock } from '../clock.js';
import {
  type Connection,
  listPortals,
  type Portal,
  portalSettings,
  takeRestSlot,
} from '../store/index.js';

/** The portals whose REST limits differ from `defaults` (settings `restRate`, `restBurst`). */
export function bucketOverrides(
  portals: Pick<Portal, 'id' | 'settings'>[],
  defaults: BucketLimits,
): Record<string, BucketLimits> {
  const out: Record<string, BucketLimits> = {};
  for (const p of portals) {
    const s = portalSettings(p);
    if (s.restRate || s.restBurst)
      out[p.id] = { rate: s.restRate ?? defaults.rate, burst: s.restBurst ?? defaults.burst };
  }
  return out;
}

/**
 * The Bitrix24 client's REST limits: `defaults` (B24_RATE, B24_BURST), the portals' own, and —
 * with several instances (PostgreSQL) — the budget in the database that they all spend from,
 * because Bitrix24 counts per portal and source IP, not per instance.
 */
export async function restLimits(
  conn: Connection,
  clock: Clock,
  defaults: BucketLimits,
): Promise<Pick<Bitrix24ClientOptions, 'rate' | 'burst' | 'bucketOverrides' | 'sharedBudget'>> {
  return {
    rate: defaults.rate,
    burst: defaults.burst,
    bucketOverrides: bucketOverrides(await listPortals(conn), defaults),
    ...(conn.caps.multiInstance
      ? {
          sharedBudget: {
            take: (portalId: string, limits: BucketLimits) =>
              takeRestSlot(conn, portalId, limits, clock.now()),
            penalize: async (portalId: string, limits: BucketLimits) => {
              await takeRestSlot(conn, portalId, limits, clock.now(), true);
            },
          },
        }
      : {}),
  };
}
