import type { Logger } from 'pino';
import type { Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { acquireLease, type Connection, listPortals, releaseLease } from '../store/index.js';
import { type SyncResult, syncConsent } from './sync.js';
import type { ConsentEntityType } from './types.js';

export interface ConsentSyncerOptions {
  conn: Connection;
  api: Bitrix24Api;
  clock: Clock;
  logger: Logger;
  /** This instance's id for the lease. */
  holder: string;
  /** Time between syncs of all active portals. Default 10 minutes. */
  intervalMs?: number;
  /** Full re-read (dropping records gone from the CRM) at most this often. Default 24 h. */
  fullEveryMs?: number;
  /** CONSENT_FIELD. Default `UF_CRM_SMS_CONSENT`. */
  field?: string;
  /** A portal's own consent field, when it has one. */
  fieldFor?: (portalId: string) => Promise<string | undefined>;
  /** Default `['contact', 'lead']`. */
  entities?: ConsentEntityType[];
  /** Called after each portal's sync (metrics). */
  onSync?: (portalId: string, outcome: SyncResult | Error) => void;
}

const LEASE = 'consent-sync';

/**
 * Keeps every active portal's consent registry fresh: each `intervalMs`, under a lease so one
 * instance does it, it runs `syncConsent` for each active portal in turn. One portal's
 * failure does not stop the others. `syncNow` syncs one portal at once (after an install),
 * sharing an in-flight sync of the same portal rather than starting a second one.
 */
export function makeConsentSyncer(opts: ConsentSyncerOptions) {
  const log = opts.logger.child({ worker: 'consent-syncer' });
  const intervalMs = opts.intervalMs ?? 10 * 60_000;
  // The lease outlives one interval, so a slow round is not taken over mid-way; a dead
  // holder is replaced after it expires.
  const leaseMs = intervalMs + 60_000;
  const stop = new AbortController();
  const running = new Map<string, Promise<SyncResult>>();
  let loop: Promise<void> | null = null;
  const deps = {
    conn: opts.conn,
    api: opts.api,
    clock: opts.clock,
    logger: log,
    ...(opts.field ? { field: opts.field } : {}),
    ...(opts.fieldFor ? { fieldFor: opts.fieldFor } : {}),
    ...(opts.entities ? { entities: opts.entities } : {}),
  };

  function syncNow(portalId: string): Promise<SyncResult> {
    const current = running.get(portalId);
    if (current) return current;
    const p = syncConsent(deps, portalId, {
      signal: stop.signal,
      ...(opts.fullEveryMs !== undefined ? { fullEveryMs: opts.fullEveryMs } : {}),
    })
      .then(
        (r) => {
          opts.onSync?.(portalId, r);
          return r;
        },
        (err: unknown) => {
          opts.onSync?.(portalId, err instanceof Error ? err : new Error(String(err)));
          throw err;
        },
      )
      .finally(() => running.delete(portalId));
    running.set(portalId, p);
    return p;
  }

  /** Syncs every active portal once if this instance holds the lease; returns how many synced. */
  async function round(): Promise<number> {
    if (!(await acquireLease(opts.conn, LEASE, opts.holder, leaseMs, opts.clock.now()))) return 0;
    let synced = 0;
    for (const p of await listPortals(opts.conn)) {
      if (stop.signal.aborted) break;
      if (p.status !== 'active') continue;
      try {
        const r = await syncNow(p.id);
        synced += 1;
        if (r.records > 0)
          log.info(
            { portalId: p.id, records: r.records, requests: r.requests },
            'consent registry updated',
          );
      } catch (err) {
        if (stop.signal.aborted) break;
        log.warn(
          { portalId: p.id, err: err instanceof Error ? err.message : String(err) },
          'consent sync failed',
        );
      }
      // Renew between portals: many big portals can take longer than one interval.
      await acquireLease(opts.conn, LEASE, opts.holder, leaseMs, opts.clock.now());
    }
    return synced;
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        await round();
      } catch (err) {
        log.error({ err }, 'consent syncer error; retrying next interval');
      }
      await opts.clock.sleep(intervalMs, stop.signal);
    }
  }

  return {
    start(): void {
      loop ??= run();
    },
    syncNow,
    round,
    /** Stops the loop and waits for it (an in-flight page batch is abandoned; it resumes next time). */
    async stop(): Promise<void> {
      stop.abort();
      await loop;
      await Promise.allSettled([...running.values()]);
      await releaseLease(opts.conn, LEASE, opts.holder).catch(() => {});
    },
  };
}

export type ConsentSyncer = ReturnType<typeof makeConsentSyncer>;
