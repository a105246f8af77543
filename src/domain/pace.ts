/**
 * Pure rules of the MTS scheduler: slot spacing, adaptive pace and probe intervals.
 * Times are epoch milliseconds unless a name says µs.
 */

/** Lowest pace "slow down" may reach: a 429 storm never stops sending entirely. */
export const MIN_PACE = 0.05;
/** Pace after one "slow down": multiplicative decrease (AIMD). */
export const SLOW_FACTOR = 0.7;
/** At most one decrease per this long: one storm of answers to requests already in flight counts once. */
export const SLOW_COOLDOWN_MS = 1000;
/** Restoring: +RESTORE_STEP of the contracted rate every RESTORE_EVERY_MS without a new "slow down". */
export const RESTORE_STEP = 0.05;
export const RESTORE_EVERY_MS = 2000;

/** The pace in force at `now`: the stored one, restored gradually since it was set. */
export function effectivePace(pace: number, paceAt: number, now: number): number {
  if (pace >= 1) return 1;
  const steps = Math.max(0, Math.floor((now - paceAt) / RESTORE_EVERY_MS));
  return Math.min(1, pace + steps * RESTORE_STEP);
}

/** The pace after a "slow down" at `now`, or null when a decrease happened too recently. */
export function slowedPace(pace: number, paceAt: number, now: number): number | null {
  if (now - paceAt < SLOW_COOLDOWN_MS && pace < 1) return null;
  return Math.max(MIN_PACE, effectivePace(pace, paceAt, now) * SLOW_FACTOR);
}

/**
 * Microseconds between two rate slots. Slots are `(1000 + headroom) / rate` ms apart and a
 * request leaves at most a part of `headroom` after its slot (else it takes a new one), so
 * any `rate + 1` arrivals span at least 1000 ms as long as the rest of the jitter fits in
 * the headroom: no 1 s window holds more than `rate`. The headroom is the whole cost: 15 ms
 * keeps 98.5 % of the contracted rate.
 */
export function slotSpacingUs(rate: number, pace: number, headroomMs: number): number {
  const perSecond = Math.max(rate * Math.max(pace, MIN_PACE), 0.001);
  return Math.ceil(((1000 + headroomMs) * 1000) / perSecond);
}

/** First probe this long after a pause starts (MTS_PROBE_AFTER). */
export const FIRST_PROBE_MS = 5000;

/**
 * The next probe interval: doubling from the first, at most 30 s apart during the first ten
 * minutes of an incident (a topped-up balance resumes within seconds), then at most 5 minutes.
 */
export function nextProbeInterval(
  previousMs: number,
  pausedSince: number,
  now: number,
  firstMs = FIRST_PROBE_MS,
): number {
  const cap = now - pausedSince < 10 * 60_000 ? 30_000 : 300_000;
  return Math.min(cap, Math.max(firstMs, previousMs * 2));
}
