import { BaseError, type BaseErrorOptions } from '../errors.js';

export interface MtsErrorOptions extends BaseErrorOptions {
  /** HTTP status of the MTS answer; undefined when no answer arrived (timeout, network). */
  httpStatus?: number;
  /** `error_code` from the MTS body, when it sent one. */
  mtsCode?: number;
}

/** Anything MTS Communicator did other than what we asked; `action` says what to do next. */
export class MtsError extends BaseError {
  readonly httpStatus: number | undefined;
  readonly mtsCode: number | undefined;

  constructor(message: string, opts: MtsErrorOptions) {
    super(message, opts);
    this.httpStatus = opts.httpStatus;
    this.mtsCode = opts.mtsCode;
  }
}

/** Retry-After when MTS sends none or an unreadable one. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** MTS's own code for an invalid recipient: the only vendor code we know for sure. */
export const MTS_PHONE_INCORRECT = 36024;

/** The `{"error_code","error_text"}` pair of an MTS error body, if `body` is one. */
export function readMtsErrorBody(body: unknown): { code?: number; text?: string } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (!('error_code' in b) && !('error_text' in b)) return undefined;
  const raw = b.error_code;
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
  return {
    code: Number.isInteger(n) ? n : undefined,
    text: typeof b.error_text === 'string' ? b.error_text : undefined,
  };
}

/**
 * Milliseconds to wait from a Retry-After header: delta-seconds or an HTTP date.
 * Missing or unreadable → DEFAULT_RETRY_AFTER_MS; a date in the past → 0.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number {
  if (!value) return DEFAULT_RETRY_AFTER_MS;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
  return Math.max(0, at - now);
}

function describe(httpStatus: number, e: { code?: number; text?: string } | undefined): string {
  const parts = [`HTTP ${httpStatus}`];
  if (e?.code !== undefined) parts.push(`error ${e.code}`);
  if (e?.text) parts.push(JSON.stringify(e.text));
  return parts.join(', ');
}

/**
 * Maps an MTS answer that is an error — a non-2xx status, or an error body inside a 2xx —
 * to an MtsError. An error body inside a 200 carries no HTTP meaning of its own, so an
 * HTTP-like `error_code` (401, 429, 503…) stands in for the status; any other code in a 200
 * is an explicit refusal and treated like a 400.
 */
export function mtsErrorFromResponse(
  httpStatus: number,
  body: unknown,
  retryAfterHeader?: string | null,
  now = Date.now(),
): MtsError {
  const e = readMtsErrorBody(body);
  const detail = describe(httpStatus, e);
  const base = { httpStatus, mtsCode: e?.code };

  if (e?.code === MTS_PHONE_INCORRECT) {
    return new MtsError(
      `MTS says the phone number is incorrect (${detail}): check the recipient's number; resending will not help`,
      { ...base, action: 'permanent', code: `MTS_${MTS_PHONE_INCORRECT}` },
    );
  }

  const is2xx = httpStatus >= 200 && httpStatus < 300;
  const httpLike = e?.code !== undefined && e.code >= 400 && e.code < 600 ? e.code : 400;
  const status = is2xx ? httpLike : httpStatus;

  if (status === 401 || status === 403) {
    return new MtsError(
      `MTS rejected the credentials (${detail}): check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN; sending is paused until they are fixed`,
      { ...base, action: 'pause', code: 'MTS_UNAUTHORIZED' },
    );
  }
  if (status === 402) {
    return new MtsError(
      `MTS reports insufficient balance (${detail}): top up the MTS Communicator account; sending is paused until then`,
      { ...base, action: 'pause', code: 'MTS_INSUFFICIENT_BALANCE' },
    );
  }
  if (status === 404) {
    // On a send, 404 means the path is wrong (client id, base URL): every send would fail.
    return new MtsError(
      `MTS answered 404 (${detail}): check MTS_API_URL and MTS_CLIENT_ID; sending is paused until they are fixed`,
      { ...base, action: 'pause', code: 'MTS_NOT_FOUND' },
    );
  }
  if (status === 408) {
    // The server gave up waiting for our request, so it did not act on it.
    return new MtsError(`MTS timed out reading our request (${detail}): will retry`, {
      ...base,
      action: 'retry',
      code: 'MTS_REQUEST_TIMEOUT',
    });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader, now);
    return new MtsError(
      `MTS is rate limiting us (${detail}): will retry in ${retryAfterMs} ms; lower MTS_RATE_LIMIT if this keeps happening`,
      { ...base, action: 'retry', code: 'MTS_RATE_LIMITED', retryAfterMs, ambiguous: false },
    );
  }
  if (status >= 500) {
    return new MtsError(
      `MTS failed with a server error (${detail}): will retry; MTS may have accepted the message, so its status is checked by extra_id before a resend`,
      { ...base, action: 'retry', code: 'MTS_SERVER_ERROR', ambiguous: true },
    );
  }
  if (status >= 400) {
    return new MtsError(
      `MTS refused the request (${detail}): fix the message or the settings (e.g. MTS_SENDER must be an alpha name registered with MTS); resending as is will not help`,
      {
        ...base,
        action: 'permanent',
        code: e?.code !== undefined ? `MTS_${e.code}` : `MTS_HTTP_${status}`,
      },
    );
  }
  return new MtsError(`MTS answered an unexpected HTTP ${httpStatus} (${detail}): will retry`, {
    ...base,
    action: 'retry',
    code: 'MTS_UNEXPECTED_STATUS',
    ambiguous: true,
  });
}

/**
 * A 2xx answer we cannot use (unparseable, no message_id…). For a send, MTS probably
 * accepted it, hence `ambiguous`: check by extra_id before sending again.
 */
export function mtsBadAnswer(httpStatus: number, why: string, ambiguous = true): MtsError {
  return new MtsError(
    `MTS answered HTTP ${httpStatus} with ${why}: will retry${ambiguous ? '; MTS may have accepted the message, so its status is checked by extra_id before a resend' : ''}`,
    { action: 'retry', code: 'MTS_BAD_RESPONSE', ambiguous, httpStatus },
  );
}

/**
 * Error codes that prove the request never reached MTS: no connection was made, so the
 * message cannot have been accepted and resending is safe.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first `code` along an error's cause chain (undici nests the socket error). */
function findErrorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  const fromCause = findErrorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  // Happy-eyeballs connects fail with an AggregateError holding one error per address.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = findErrorCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { name?: unknown }).name === 'TimeoutError' ||
      (err as { name?: unknown }).name === 'AbortError')
  );
}

/** Maps a failed fetch (no HTTP answer) to an MtsError. */
export function mtsErrorFromFetchFailure(err: unknown, url: string, timeoutMs: number): MtsError {
  if (isTimeout(err)) {
    return new MtsError(
      `MTS did not answer ${url} within ${timeoutMs} ms: will retry; MTS may have accepted the message, so its status is checked by extra_id before a resend`,
      { action: 'retry', code: 'MTS_TIMEOUT', ambiguous: true, cause: err },
    );
  }
  const code = findErrorCode(err);
  if (code && NOT_SENT_CODES.has(code)) {
    return new MtsError(
      `Cannot connect to MTS at ${url} (${code}): check MTS_API_URL and the network; will retry`,
      { action: 'retry', code: 'MTS_UNREACHABLE', ambiguous: false, cause: err },
    );
  }
  const why = code ?? (err instanceof Error ? err.message : String(err));
  return new MtsError(
    `The connection to MTS at ${url} failed mid-request (${why}): will retry; MTS may have accepted the message, so its status is checked by extra_id before a resend`,
    { action: 'retry', code: 'MTS_NETWORK', ambiguous: true, cause: err },
  );
}
