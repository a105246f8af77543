import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { acquireLease, type Connection, currentLease, releaseLease } from '../store/index.js';

export interface SingletonLoopOptions {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  /** Lease name: the loop runs in one instance at a time among those sharing the database. */
  name: string;
  holder: string;
  /** Pause between passes (ms). */
  tickMs: number;
  /** Lease lifetime (default 30 s): how long a crashed holder blocks the others. */
  leaseMs?: number;
  /** One pass; `signal` aborts when the loop stops. */
  tick: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * A background pass repeated every `tickMs` under a lease, so that with several instances
 * on PostgreSQL exactly one runs it. `wake()` cuts the pause short; `stop()` waits for the
 * pass in progress and releases the lease, so a restarted instance takes over at once.
 */
export function makeSingletonLoop(opts: SingletonLoopOptions) {
  const stop = new AbortController();
  let idle: AbortController | null = null;
  let loop: Promise<void> | null = null;

  const leaseMs = opts.leaseMs ?? 30_000;
  /** Until when we hold the lease, as far as we know; renewed once a third of it is used. */
  let heldUntil = 0;

  /**
   * Holds the lease with as few writes as possible: the holder renews it after a third of its
   * lifetime (an idle service writes about once per 10 s per loop, not once per tick); the
   * others only read it until it expires.
   */
  async function holdLease(): Promise<boolean> {
    const now = opts.clock.now();
    if (heldUntil - now > (leaseMs * 2) / 3) return true;
    if (heldUntil <= now) {
      const row = await currentLease(opts.conn, opts.name);
      if (row && row.holder !== opts.holder && row.expires_at >= now) return false;
    }
    const ok = await acquireLease(opts.conn, opts.name, opts.holder, leaseMs, now);
    heldUntil = ok ? now + leaseMs : 0;
    return ok;
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        if (await holdLease()) await opts.tick(stop.signal);
      } catch (err) {
        opts.logger.error({ err, worker: opts.name }, `${opts.name} pass failed; retrying`);
      }
      if (stop.signal.aborted) break;
      idle = new AbortController();
      await opts.clock.sleep(opts.tickMs, idle.signal);
      idle = null;
    }
  }

  return {
    start(): void {
      loop ??= run();
    },
    wake(): void {
      idle?.abort();
    },
    async stop(): Promise<void> {
      stop.abort();
      idle?.abort();
      await loop;
      heldUntil = 0;
      await releaseLease(opts.conn, opts.name, opts.holder).catch(() => {});
    },
  };
}
