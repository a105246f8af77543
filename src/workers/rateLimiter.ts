import type { Clock } from '../clock.js';
import type { Connection } from '../store/dialects/types.js';
import { tryStart } from '../store/rateLimit.js';

export interface RateLimiter {
  /** Waits until one more request may start. Resolves early (false) when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<boolean>;
  /** Requests allowed per window. */
  readonly limit: number;
  /** The window, ms (1000 + headroom). */
  readonly windowMs: number;
}

/**
 * Default headroom for network and scheduling jitter (MTS_RATE_HEADROOM_MS): `rate` requests
 * per (1000 + 100) ms, so a request that reaches MTS up to 100 ms sooner than the one `rate`
 * places before it (relative to their start times) still cannot make MTS see rate + 1
 * requests in one second. 50 ms was not enough on a loaded 2-core machine (a process
 * descheduled between deciding and sending). Costs about 9 % of the contractual rate.
 */
export const JITTER_HEADROOM_MS = 100;

/**
 * MTS_RATE_LIMIT for all instances using the same database: a sliding window of recent start
 * times kept in the database (see store/rateLimit.ts). A fractional rate (e.g. 0.5/s) becomes
 * one request per 1/rate seconds.
 */
export function makeSharedRateLimiter(opts: {
  conn: Connection;
  key: string;
  rate: number;
  clock: Clock;
  /** Default JITTER_HEADROOM_MS. */
  headroomMs?: number;
}): RateLimiter {
  const limit = Math.max(1, Math.floor(opts.rate));
  const windowMs = (1000 * limit) / opts.rate + (opts.headroomMs ?? JITTER_HEADROOM_MS);
  return {
    limit,
    windowMs,
    async acquire(signal) {
      while (!signal?.aborted) {
        const d = await tryStart(opts.conn, opts.key, limit, windowMs, () => opts.clock.now());
        if (d.go) return true;
        // Spread the waiters a little so they do not all hit the lock at the same instant.
        await opts.clock.sleep(
          Math.max(1, d.retryAt - opts.clock.now()) + Math.random() * 5,
          signal,
        );
      }
      return false;
    },
  };
}
