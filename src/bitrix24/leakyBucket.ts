import { type Clock, systemClock } from '../clock.js';

/** Limits of one bucket (Bitrix24 `limits.md`: 2/s and 50 on most plans, 5/s and 250 on Enterprise). */
export interface BucketLimits {
  /** Requests per second the bucket drains. */
  rate: number;
  /** Requests the bucket holds before it blocks. */
  burst: number;
}

export interface LeakyBucketOptions {
  /** Drain rate in requests per second. Default 2. */
  rate?: number;
  /** Capacity in requests. Default 50. */
  burst?: number;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Limits per key that differ from the default (e.g. an Enterprise portal: 5/250). */
  overrides?: Record<string, BucketLimits>;
}

interface BucketState {
  /** Fill level at `at`; above `burst` it counts requests already promised a later slot. */
  level: number;
  at: number;
}

/**
 * A per-key leaky bucket modelled on Bitrix24's: every request adds 1, the level drains at
 * `rate` per second, and a request may go while the level stays within `burst`.
 *
 * `acquire` reserves a slot at once and then sleeps until it is due, so concurrent callers
 * are served in arrival order without polling. A fresh key starts empty (a full budget of
 * `burst`): the portal counts too, and `penalize` fills the bucket when it says we were
 * over after all.
 */
export class LeakyBucket {
  private readonly defaults: BucketLimits;
  private readonly clock: Clock;
  private readonly overrides = new Map<string, BucketLimits>();
  private readonly states = new Map<string, BucketState>();

  constructor(opts: LeakyBucketOptions = {}) {
    this.defaults = { rate: opts.rate ?? 2, burst: opts.burst ?? 50 };
    this.clock = opts.clock ?? systemClock;
    for (const [key, limits] of Object.entries(opts.overrides ?? {}))
      this.overrides.set(key, limits);
    if (this.defaults.rate <= 0 || this.defaults.burst < 1) {
      throw new RangeError('LeakyBucket needs rate > 0 and burst >= 1');
    }
  }

  /** Limits in force for `key`. */
  limits(key: string): BucketLimits {
    return this.overrides.get(key) ?? this.defaults;
  }

  /** Sets limits for one key (e.g. after learning the portal's plan). */
  setLimits(key: string, limits: BucketLimits): void {
    this.overrides.set(key, limits);
  }

  /** Current fill level of `key` (drained to now). */
  level(key: string): number {
    return this.drained(key).level;
  }

  /**
   * Waits until one request for `key` may go. Rejects with the signal's reason when
   * `signal` aborts first (and gives the reserved slot back).
   */
  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { rate, burst } = this.limits(key);
    const state = this.drained(key);
    state.level += 1;
    const waitMs = Math.ceil(((state.level - burst) / rate) * 1000);
    if (waitMs <= 0) return;
    await this.clock.sleep(waitMs, signal);
    if (signal?.aborted) {
      // Our slot was never used: release it so later callers do not wait for it.
      const s = this.drained(key);
      s.level = Math.max(0, s.level - 1);
      throw signal.reason;
    }
  }

  /**
   * Takes one slot if the bucket has room now; never waits. This is the server's view
   * (the portal refuses instead of queueing), used by the emulator.
   */
  tryAcquire(key: string): boolean {
    const { burst } = this.limits(key);
    const state = this.drained(key);
    if (state.level + 1 > burst) return false;
    state.level += 1;
    return true;
  }

  /** Marks `key` as full: the peer said we are over its limit, so wait for a full drain step. */
  penalize(key: string): void {
    const { burst } = this.limits(key);
    const state = this.drained(key);
    state.level = Math.max(state.level, burst);
  }

  /** Forgets every key's level (limits stay). */
  reset(): void {
    this.states.clear();
  }

  private drained(key: string): BucketState {
    const now = this.clock.now();
    const { rate } = this.limits(key);
    let state = this.states.get(key);
    if (!state) {
      state = { level: 0, at: now };
      this.states.set(key, state);
      return state;
    }
    const elapsed = Math.max(0, now - state.at);
    state.level = Math.max(0, state.level - (elapsed * rate) / 1000);
    state.at = now;
    return state;
  }
}
