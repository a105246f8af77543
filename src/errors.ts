/**
 * What the caller should do after an error.
 * - `permanent`: this message (or request) cannot succeed as it is; fail it with the reason
 *   (bad number, text too long, rejected input). Retrying cannot help.
 * - `retry`: transient; try the same request again later with backoff (5xx, timeouts,
 *   resets, an MTS internal error, an MTS code we do not know). `retryAfterMs` when the
 *   peer said how long to wait.
 * - `pause`: the whole channel (for MTS: the MTS account/contract) cannot send at all
 *   (bad credentials, balance exhausted, connection inactive or not configured). Stop
 *   sending on it, keep every message queued, alert the admin; resume when a probe
 *   succeeds or the admin fixes it.
 * - `hold`: this sender (for MTS: this alpha name) cannot send; hold its messages and
 *   alert, while other senders go on.
 * - `slow`: the peer asks us to slow down (throttling, queue full, HTTP 429): back off,
 *   lower the pace and retry; nothing fails. `retryAfterMs` is how long to wait.
 */
export type ErrorAction = 'permanent' | 'retry' | 'pause' | 'hold' | 'slow';

export interface BaseErrorOptions {
  action: ErrorAction;
  /** Machine-readable code, e.g. `MTS_36024` or `B24_QUERY_LIMIT_EXCEEDED`. */
  code: string;
  /** Milliseconds the peer asked us to wait (Retry-After). */
  retryAfterMs?: number;
  /**
   * True when a request may have reached the peer and been acted upon (timeout after
   * sending, connection reset, 5xx): the outcome must be checked before a resend.
   */
  ambiguous?: boolean;
  cause?: unknown;
}

export class BaseError extends Error {
  readonly action: ErrorAction;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly ambiguous: boolean;

  constructor(message: string, opts: BaseErrorOptions) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.action = opts.action;
    this.code = opts.code;
    this.retryAfterMs = opts.retryAfterMs;
    this.ambiguous = opts.ambiguous ?? false;
  }

  /**
   * True when the same request may succeed later without anyone acting (`retry`, `slow`);
   * `pause` and `hold` wait for a fix or a successful probe instead.
   */
  get retry(): boolean {
    return this.action === 'retry' || this.action === 'slow';
  }
}

/** Input we refuse: the reason is shown to the user as is. */
export class ValidationError extends BaseError {
  constructor(message: string, code = 'INVALID_INPUT') {
    super(message, { action: 'permanent', code });
  }
}

/** Turns anything thrown into a BaseError; unknown errors are retryable and ambiguous. */
export function coerceError(err: unknown): BaseError {
  if (err instanceof BaseError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new BaseError(e.message, { action: 'retry', code: 'INTERNAL', ambiguous: true, cause: e });
}

/**
 * Input a person got wrong (a date, a number, a setting), with a message that names it: the
 * CLI exits 2 with the message, the admin API answers 400 with it.
 */
export class InputError extends Error {}
