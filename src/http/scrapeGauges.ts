import type { Clock } from '../clock.js';
import { type Connection, countByState, listPortals, queueDepth } from '../store/index.js';
import type { Metrics } from './metrics.js';

export interface ScrapeGaugeDeps {
  conn: Connection;
  clock: Clock;
  metrics: Metrics;
  /** Paused contracts and held alpha names (the scheduler's status). */
  sending: () => { paused: readonly unknown[]; holds: readonly unknown[] };
  /** REST requests sent to a portal since start (the Bitrix24 client's count). */
  restRequests: (portalId: string) => number;
}

/**
 * Sets the gauges that are read, not counted, before each `/metrics` scrape: queue depth and
 * the oldest queued message's age, messages by state, pauses and holds, REST requests per
 * portal.
 */
export function makeScrapeGauges(deps: ScrapeGaugeDeps): () => Promise<void> {
  const { conn, clock, metrics } = deps;
  return async () => {
    const depth = await queueDepth(conn, clock.now());
    metrics.queueDepth.set(depth.queued);
    metrics.oldestQueuedAge.set(
      depth.oldestQueuedAt ? (clock.now() - depth.oldestQueuedAt) / 1000 : 0,
    );
    const byState = await countByState(conn);
    metrics.messages.reset();
    for (const [state, n] of Object.entries(byState)) metrics.messages.set({ state }, n);
    const sending = deps.sending();
    metrics.paused.set(sending.paused.length ? 1 : 0);
    metrics.holds.set(sending.holds.length);
    for (const p of await listPortals(conn))
      metrics.restRequests.set({ portal: p.id }, deps.restRequests(p.id));
  };
}
