/**
 * What the caller should do after an error.
 * - `permanent`: retrying cannot help this message (bad number, text too long, spam filter).
 * - `retry`: transient; try again later with backoff (5xx, timeouts, network, unknown codes).
 * - `pause`: the whole MTS account cannot send (credentials, balance, connection): pause it,
 *   keep every message queued, probe until it works again.
 * - `hold`: this alpha name cannot send (MTS 10262): hold its messages, others go on.
 * - `slow`: the peer throttles us (MTS 10224, 429): lower the pace, retry after `retryAfterMs`.
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

  get retry(): boolean {
    return this.action === 'retry';
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
