/** Time source. Workers and limiters take one so tests can run them on a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` (or at once when `signal` aborts). Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** A manually advanced clock for tests: sleepers wake when `advance` passes their deadline. */
export class FakeClock implements Clock {
  private sleepers: { at: number; resolve: () => void }[] = [];
  constructor(private t = Date.UTC(2026, 10, 24, 9, 0, 0)) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        resolve();
      };
      // Waking by time must drop the abort listener too, or long-lived signals pile them up.
      const s = {
        at: this.t + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(s);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
  }
  set(t: number): void {
    this.advance(t - this.t);
  }
}
