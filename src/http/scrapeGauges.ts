import type { Clock } from '../clock.js';
import type { Backlog } from '../core/backlog.js';
import { type Connection, listPortals } from '../store/index.js';
import type { Metrics } from './metrics.js';

export interface ScrapeGaugeDeps {
  conn: Connection;
  clock: Clock;
  metrics: Metrics;
  /** The waiting work explained (core/backlog.ts readBacklog): reads waiting rows only. */
  backlog: (now: number) => Promise<Backlog>;
  /** Paused contracts and held alpha names (the scheduler's status). */
  sending: () => { paused: readonly unknown[]; holds: readonly unknown[] };
  /** REST requests sent to a portal since start (the Bitrix24 client's count). */
  restRequests: (portalId: string) => number;
}

/**
 * Sets the gauges that are read, not counted, before each `/metrics` scrape: the backlog (by
 * contract, lane and reason, its ETA and oldest age), the queue figures derived from it,
 * pauses and holds, and the REST requests per portal counter brought up to date. Every read is of waiting rows through their
 * partial indexes: a scrape costs the same beside a million finished messages.
 */
export function makeScrapeGauges(deps: ScrapeGaugeDeps): () => Promise<void> {
  const { conn, clock, metrics } = deps;
  // The Bitrix24 client counts its requests; the counter takes what was added since the last
  // scrape.
  const restSeen = new Map<string, number>();
  return async () => {
    const b = await deps.backlog(clock.now());
    const age = b.oldestAgeSeconds ?? 0;
    metrics.backlogOldestAge.set(age);
    metrics.oldestQueuedAge.set(age);
    metrics.backlogMessages.reset();
    metrics.backlogEta.reset();
    metrics.messages.reset();
    const byState = { queued: 0, held: 0, sending: 0 };
    for (const l of b.lanes) {
      for (const [reason, n] of Object.entries(l.byReason))
        metrics.backlogMessages.set({ contract: l.contract, lane: l.lane, reason }, n);
      metrics.backlogEta.set(
        { contract: l.contract, lane: l.lane },
        l.etaSeconds ?? Number.POSITIVE_INFINITY,
      );
      byState.queued += l.dueNow + l.scheduledLater;
      byState.held += l.held;
      byState.sending += l.sending;
    }
    for (const [state, n] of Object.entries(byState)) metrics.messages.set({ state }, n);
    metrics.queueDepth.set(byState.queued + byState.sending);
    const sending = deps.sending();
    metrics.paused.set(sending.paused.length ? 1 : 0);
    metrics.holds.set(sending.holds.length);
    for (const p of await listPortals(conn)) {
      const n = deps.restRequests(p.id);
      metrics.restRequests.inc({ portal: p.id }, Math.max(0, n - (restSeen.get(p.id) ?? 0)));
      restSeen.set(p.id, n);
    }
  };
}
