import { type Clock, systemClock } from '../clock.js';
import { Bitrix24Error } from './errors.js';

/** Bitrix24's two "not now" answers (`limits.md`): the same request succeeds later. */
const LIMIT_ERRORS = new Set(['QUERY_LIMIT_EXCEEDED', 'OPERATION_TIME_LIMIT']);

/** One wait for a Bitrix24 limit, as `onWait` hears of it. */
export interface LimitWait {
  /** `QUERY_LIMIT_EXCEEDED` or `OPERATION_TIME_LIMIT`. */
  limit: string;
  /** How long the request waits before it is sent again. */
  waitMs: number;
  /** Waits of this request so far, this one included. */
  attempt: number;
}

export interface PatienceOptions {
  /** Default the system clock. */
  clock?: Clock;
  /** Told of every wait (e.g. to print a line for the user). */
  onWait?: (wait: LimitWait) => void;
  /** Wait after QUERY_LIMIT_EXCEEDED that carries no hint. Default 1 000 ms (2 requests drain). */
  queryLimitWaitMs?: number;
  /**
   * Wait after OPERATION_TIME_LIMIT when the error does not say when the block lifts
   * (the client already waited for `operating_reset_at` when it knew it). Default 60 000 ms.
   */
  operatingLimitWaitMs?: number;
  /** Stops waiting: the pending call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Runs a Bitrix24 request, waiting out the portal's limits however long they last. */
export type Patient = <T>(request: () => Promise<T>) => Promise<T>;

/**
 * For jobs that must finish rather than fail fast (a CRM scan, a bulk fix): a request that
 * meets QUERY_LIMIT_EXCEEDED or OPERATION_TIME_LIMIT after the client's own retries is
 * sent again after a wait (`retryAfterMs` when the error carries it), as often as it takes.
 * Every other error is the caller's.
 */
export function patience(opts: PatienceOptions = {}): Patient {
  const clock = opts.clock ?? systemClock;
  const queryWait = opts.queryLimitWaitMs ?? 1_000;
  const operatingWait = opts.operatingLimitWaitMs ?? 60_000;
  return async <T>(request: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      try {
        return await request();
      } catch (err) {
        const limit = err instanceof Bitrix24Error ? err.b24Error : undefined;
        if (!limit || !LIMIT_ERRORS.has(limit)) throw err;
        const hinted = (err as Bitrix24Error).retryAfterMs;
        const fallback = limit === 'QUERY_LIMIT_EXCEEDED' ? queryWait : operatingWait;
        const waitMs = Math.max(hinted ?? fallback, 100);
        opts.onWait?.({ limit, waitMs, attempt });
        await clock.sleep(waitMs, opts.signal);
      }
    }
  };
}

/** Whether a batch sub-command failed with one of the limits `patience` waits out. */
export function isLimitError(code: string | undefined): boolean {
  return code !== undefined && LIMIT_ERRORS.has(code);
}
