import { type MtsCode, mtsCode } from '../domain/mtsCodes.js';
import { BaseError, type BaseErrorOptions } from '../errors.js';
import { CONNECT_TIMEOUT, findErrorCode } from './http.js';

export interface MtsErrorOptions extends BaseErrorOptions {
  /** HTTP status of the MTS answer; undefined when no answer arrived (timeout, network). */
  httpStatus?: number;
  /** `error_code` from the MTS body, when it sent one. */
  mtsCode?: number;
  /** MTS sent an error body whose code is in none of our tables. Default false. */
  unknownCode?: boolean;
}

/** Anything MTS Communicator did other than what we asked; `action` says what to do next. */
export class MtsError extends BaseError {
  readonly httpStatus: number | undefined;
  readonly mtsCode: number | undefined;
  /**
   * True only when MTS answered an error body with a code we have no classification for
   * (not in MTS's table, not an HTTP status): the error is treated as transient (`retry`),
   * and the caller should log it loudly so the code gets classified.
   */
  readonly unknownCode: boolean;

  constructor(message: string, opts: MtsErrorOptions) {
    super(message, opts);
    this.httpStatus = opts.httpStatus;
    this.mtsCode = opts.mtsCode;
    this.unknownCode = opts.unknownCode ?? false;
  }
}

/**
 * How long a `slow` error asks to wait when MTS gives no (readable) Retry-After: MTS's
 * contractual rate is per second, so one second is the natural pause.
 */
export const DEFAULT_RETRY_AFTER_MS = 1000;

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

/** What an MTS answer came with, besides status and body. */
export interface MtsAnswerContext {
  /** The `Retry-After` header, if any. */
  retryAfter?: string | null;
  /** Clock for an HTTP-date Retry-After. Default Date.now(). */
  now?: number;
  /** Alpha name of the refused send, named in a `hold` error. */
  alphaName?: string;
}

const CHECK_CREDENTIALS = 'check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN';
const NOT_CONFIGURED =
  'the MTS connection is not (fully) configured: check MTS_CLIENT_ID and ask MTS support to finish setting up the connection';
const NOT_PERMITTED =
  'the MTS contract does not permit sending SMS this way: ask MTS support to enable the SMS channel for the connection';
const OUR_BUG =
  'the request did not have the shape MTS expects, which is a bug of this service: report it with this error';

/** What a person should do, for the codes where MTS's text alone does not say. */
const ADVICE: Readonly<Record<number, string>> = {
  1130: CHECK_CREDENTIALS,
  10204: NOT_CONFIGURED,
  10220: NOT_PERMITTED,
  10221: NOT_PERMITTED,
  10222: 'the MTS connection is not active: ask MTS support to activate it',
  10229: 'top up the MTS Communicator account (or ask MTS to raise the quota)',
  10231: NOT_CONFIGURED,
  10232: NOT_CONFIGURED,
  10233: NOT_CONFIGURED,
  10236: NOT_CONFIGURED,
  10238: NOT_CONFIGURED,
  10248: NOT_PERMITTED,
  10276: NOT_CONFIGURED,
  10217: OUR_BUG,
  10218: OUR_BUG,
  10219: OUR_BUG,
  10246: OUR_BUG,
  10247: OUR_BUG,
  10259: 'the message validity (MTS_SMS_TTL) must be 300–259200 seconds',
  10227: 'the number is on a black list (or missing from a white list) at MTS: ask MTS support',
  10234:
    'MTS blocks, as spam, more than 2 identical texts to one number within 70 s: change the text or send later',
  10237: "MTS's content filter blocked the text: rephrase it or ask MTS support",
  10240: "check the recipient's number",
  10241: "check the recipient's number",
  10243: "check the recipient's number",
  36024: "check the recipient's number",
  10244: 'the start time must not be in the past',
  10245: 'the start time must be at most 24 hours ahead',
  10260:
    'shorten the text: MTS takes at most 15 parts (1005 characters in Cyrillic, 2295 in Latin)',
  10261: 'the text is empty: write one',
  10277: 'ask MTS support about transliteration for this connection',
};

/** The MtsError for an error code MTS's table classifies. */
function fromKnownCode(
  c: MtsCode & { class: NonNullable<MtsCode['class']> },
  detail: string,
  base: { httpStatus: number; mtsCode: number | undefined },
  ctx: MtsAnswerContext,
): MtsError {
  // An explicit error_code is MTS saying it did not take the message: never ambiguous.
  const opts = { ...base, action: c.class, code: `MTS_${c.code}`, ambiguous: false };
  const advice = ADVICE[c.code];
  switch (c.class) {
    case 'pause':
      return new MtsError(
        `MTS cannot send anything on this account: ${c.en} (${detail}): ${advice ?? 'ask MTS support'}; sending on this MTS account is paused and resumes by itself once a probe succeeds`,
        opts,
      );
    case 'hold': {
      const name = ctx.alphaName !== undefined ? ` ${JSON.stringify(ctx.alphaName)}` : '';
      return new MtsError(
        `MTS does not permit the alpha name${name} (${detail}): register it with MTS or choose a registered one (MTS_SENDER, MTS_SENDER_MARKETING or the portal's Sender ID); messages from this alpha name are held, the others go on`,
        opts,
      );
    }
    case 'slow': {
      const retryAfterMs = parseRetryAfter(ctx.retryAfter, ctx.now);
      return new MtsError(
        `MTS asks us to slow down: ${c.en} (${detail}): will retry in ${retryAfterMs} ms at a lower pace; nothing fails. If this keeps happening, set MTS_RATE_LIMIT to the contracted rate`,
        { ...opts, retryAfterMs },
      );
    }
    case 'retry':
      return new MtsError(
        `MTS had an internal error: ${c.en} (${detail}): will retry; MTS did not take the message`,
        opts,
      );
    case 'permanent':
      return new MtsError(
        `MTS refused the message: ${c.en} (${detail}): ${advice ?? 'fix the message'}; resending it as is will not help`,
        opts,
      );
  }
}

/**
 * Maps an MTS answer that is an error — a non-2xx status, or an error body inside a 2xx —
 * to an MtsError:
 * 1. an `error_code` MTS's table classifies (src/domain/mtsCodes.ts) decides, whatever the
 *    HTTP status: pause / hold / slow / retry / permanent;
 * 2. otherwise the HTTP status (inside a 200, an HTTP-like `error_code` such as 401 or 503
 *    stands in for it): 401/403/402/404 pause, 408 retry, 429 slow, 5xx retry (ambiguous);
 * 3. any other error body — a code we do not know — is transient (`retry`) and flagged
 *    `unknownCode`, never a silent permanent failure; a bare 4xx without a body stays
 *    permanent.
 */
export function mtsErrorFromResponse(
  httpStatus: number,
  body: unknown,
  ctx: MtsAnswerContext = {},
): MtsError {
  const e = readMtsErrorBody(body);
  const detail = describe(httpStatus, e);
  const base = { httpStatus, mtsCode: e?.code };

  const known = e?.code !== undefined ? mtsCode(e.code) : undefined;
  if (known?.class) return fromKnownCode({ ...known, class: known.class }, detail, base, ctx);

  const is2xx = httpStatus >= 200 && httpStatus < 300;
  const httpLike = e?.code !== undefined && e.code >= 400 && e.code < 600 ? e.code : undefined;
  // An error body whose code means nothing to us (not in MTS's table, not an HTTP status).
  const unknownCode = e !== undefined && httpLike === undefined;
  const status = is2xx ? httpLike : httpStatus;

  if (status === 401 || status === 403) {
    return new MtsError(
      `MTS rejected the credentials (${detail}): ${CHECK_CREDENTIALS}; sending on this MTS account is paused and resumes by itself once a probe succeeds`,
      { ...base, unknownCode, action: 'pause', code: 'MTS_UNAUTHORIZED' },
    );
  }
  if (status === 402) {
    return new MtsError(
      `MTS reports insufficient balance (${detail}): top up the MTS Communicator account; sending on this MTS account is paused and resumes by itself once a probe succeeds`,
      { ...base, unknownCode, action: 'pause', code: 'MTS_INSUFFICIENT_BALANCE' },
    );
  }
  if (status === 404) {
    // On a send, 404 means the path is wrong (client id, base URL): every send would fail.
    return new MtsError(
      `MTS answered 404 (${detail}): check MTS_API_URL and MTS_CLIENT_ID; sending is paused until they are fixed`,
      { ...base, unknownCode, action: 'pause', code: 'MTS_NOT_FOUND' },
    );
  }
  if (status === 408) {
    // The server gave up waiting for our request, so it did not act on it.
    return new MtsError(`MTS timed out reading our request (${detail}): will retry`, {
      ...base,
      unknownCode,
      action: 'retry',
      code: 'MTS_REQUEST_TIMEOUT',
    });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(ctx.retryAfter, ctx.now);
    return new MtsError(
      `MTS is rate limiting us (${detail}): will retry in ${retryAfterMs} ms at a lower pace; if this keeps happening, set MTS_RATE_LIMIT to the contracted rate`,
      { ...base, unknownCode, action: 'slow', code: 'MTS_RATE_LIMITED', retryAfterMs },
    );
  }
  if (status !== undefined && status >= 500) {
    return new MtsError(
      `MTS failed with a server error (${detail}): will retry; MTS may have accepted the message, so its status is checked by extra_id before a resend`,
      { ...base, unknownCode, action: 'retry', code: 'MTS_SERVER_ERROR', ambiguous: true },
    );
  }
  if (unknownCode) {
    const what = known
      ? `error ${known.code} (${JSON.stringify(known.en)}), which we do not expect as an answer`
      : 'an error code we do not know';
    return new MtsError(
      `MTS answered ${what} (${detail}): treated as temporary and retried; report it so it can be classified`,
      {
        ...base,
        unknownCode,
        action: 'retry',
        code: e?.code !== undefined ? `MTS_${e.code}` : 'MTS_UNKNOWN_ERROR',
      },
    );
  }
  if (status !== undefined && status >= 400) {
    return new MtsError(
      `MTS refused the request (${detail}): check the message and the settings; resending it as is will not help`,
      { ...base, action: 'permanent', code: `MTS_HTTP_${status}` },
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
  CONNECT_TIMEOUT,
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first `code` of an error, or along its cause chain (wrapped socket errors). */
function isTimeout(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { name?: unknown }).name === 'TimeoutError' ||
      (err as { name?: unknown }).name === 'AbortError')
  );
}

/**
 * Maps a request that got no HTTP answer to an MtsError: a timeout (error named
 * `TimeoutError`/`AbortError`) and a reset are ambiguous; a connection never made is not.
 */
export function mtsErrorFromNoAnswer(err: unknown, url: string, timeoutMs: number): MtsError {
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
