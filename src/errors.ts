/**
 * What the caller should do after an error.
 * - `permanent`: retrying cannot help (bad number, unknown alpha name, rejected input).
 * - `retry`: try again later (5xx, 429, timeouts, network); `retryAfterMs` when the peer said.
 * - `pause`: stop the whole channel until an operator acts (bad credentials, no balance).
 */
export type ErrorAction = 'permanent' | 'retry' | 'pause';

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
