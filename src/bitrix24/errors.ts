import { BaseError, type ErrorAction } from '../errors.js';

export interface Bitrix24ErrorOptions {
  action: ErrorAction;
  /** Our code; default `B24_<b24Error>`, or `B24_HTTP_<status>`, or `B24_NETWORK`. */
  code?: string;
  /** HTTP status of the answer, when there was one. */
  httpStatus?: number;
  /** Bitrix24 `error` field, e.g. `expired_token`, `QUERY_LIMIT_EXCEEDED`. */
  b24Error?: string;
  /** Bitrix24 `error_description` field. */
  description?: string;
  retryAfterMs?: number;
  ambiguous?: boolean;
  cause?: unknown;
}

/** A failed Bitrix24 REST or OAuth request; `action` tells the caller what to do next. */
export class Bitrix24Error extends BaseError {
  readonly httpStatus: number | undefined;
  readonly b24Error: string | undefined;
  readonly description: string | undefined;

  constructor(message: string, opts: Bitrix24ErrorOptions) {
    super(message, {
      action: opts.action,
      code:
        opts.code ??
        `B24_${opts.b24Error || (opts.httpStatus ? `HTTP_${opts.httpStatus}` : 'NETWORK')}`,
      retryAfterMs: opts.retryAfterMs,
      ambiguous: opts.ambiguous,
      cause: opts.cause,
    });
    this.httpStatus = opts.httpStatus;
    this.b24Error = opts.b24Error;
    this.description = opts.description;
  }
}

/**
 * Portal-side limits and server trouble: the same request can succeed later.
 * (`/_includes/system-errors.md`: 500 INTERNAL_SERVER_ERROR / ERROR_UNEXPECTED_ANSWER,
 * 503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT.)
 */
const RETRY_CODES = new Set([
  'QUERY_LIMIT_EXCEEDED',
  'OPERATION_TIME_LIMIT',
  'INTERNAL_SERVER_ERROR',
  'ERROR_UNEXPECTED_ANSWER',
  'expired_token',
]);

/**
 * Errors that stop every call to the portal until someone acts (reinstall, pay, unblock):
 * retrying each message would only burn the rate limit.
 */
const PAUSE_CODES = new Set([
  'invalid_token',
  'invalid_grant',
  'invalid_client',
  'wrong_client',
  'NO_AUTH_FOUND',
  'PAYMENT_REQUIRED',
  'OVERLOAD_LIMIT',
  'PORTAL_DELETED',
  'user_access_error',
]);

/** The action for a Bitrix24 error code (and HTTP status when the code is unknown). */
export function actionForB24Error(b24Error: string | undefined, httpStatus?: number): ErrorAction {
  if (b24Error && PAUSE_CODES.has(b24Error)) return 'pause';
  if (b24Error && RETRY_CODES.has(b24Error)) return 'retry';
  if (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429)) return 'retry';
  return 'permanent';
}

/** Builds the error for an answer `{error, error_description}` (or a bare HTTP status). */
export function bitrix24ErrorFromAnswer(ctx: {
  what: string;
  httpStatus: number;
  b24Error?: string;
  description?: string;
  action?: ErrorAction;
}): Bitrix24Error {
  const action = ctx.action ?? actionForB24Error(ctx.b24Error, ctx.httpStatus);
  const code = ctx.b24Error || `HTTP ${ctx.httpStatus}`;
  const desc = ctx.description ? `: ${ctx.description}` : '';
  return new Bitrix24Error(`Bitrix24 ${ctx.what} failed with ${code}${desc}`, {
    action,
    httpStatus: ctx.httpStatus,
    b24Error: ctx.b24Error || undefined,
    description: ctx.description,
    // A 5xx may come after the method ran; limits and auth errors reject before it runs.
    ambiguous: ctx.httpStatus >= 500 && ctx.b24Error !== 'QUERY_LIMIT_EXCEEDED',
  });
}

/**
 * The portal's plan has no REST API (`_includes/system-errors.md`: `ACCESS_DENIED`, "REST is
 * available only on commercial plans"; webhooks read "…only by subscription"). Nothing the
 * app does through REST can work until the plan changes: action 'pause'.
 */
export class Bitrix24RestUnavailableError extends Bitrix24Error {
  constructor(portal: string, opts: { httpStatus?: number; description?: string }) {
    super(
      `Bitrix24 portal ${portal} refuses every REST call (ACCESS_DENIED${opts.description ? `: ${opts.description}` : ''}): its plan does not include the REST API. The SMS provider cannot register or report statuses until the portal is on a plan with REST (a commercial plan or its trial); then run \`b24-mts-sms register\`.`,
      {
        action: 'pause',
        code: 'B24_REST_UNAVAILABLE',
        b24Error: 'ACCESS_DENIED',
        ...(opts.httpStatus !== undefined ? { httpStatus: opts.httpStatus } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      },
    );
  }
}

/**
 * True for the plan-level ACCESS_DENIED. The same code also means "not an administrator" or
 * "application context required" (400/403, method-level): those stay permanent errors.
 */
export function isRestUnavailable(
  b24Error: string | undefined,
  httpStatus: number,
  description: string | undefined,
): boolean {
  if (b24Error !== 'ACCESS_DENIED') return false;
  if (
    description &&
    /commercial plan|only by subscription|REST is available only/i.test(description)
  )
    return true;
  return httpStatus === 401 && !description;
}
