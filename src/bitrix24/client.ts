import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../log.js';
import { decodeBatch, encodeBatch } from './batch.js';
import {
  Bitrix24Error,
  Bitrix24RestUnavailableError,
  bitrix24ErrorFromAnswer,
  isRestUnavailable,
} from './errors.js';
import { readJson, transportError } from './http.js';
import { type BucketLimits, LeakyBucket } from './leakyBucket.js';
import { OperatingLimits, type PortalAccessProblem } from './limits.js';
import { refreshTokens } from './oauth.js';
import { trustedOAuthServers } from './oauthServers.js';
import type {
  BatchCommand,
  BatchItemResult,
  Bitrix24Api,
  PortalConnection,
  PortalTokens,
  TokenStore,
} from './types.js';

export interface Bitrix24ClientOptions {
  /** The local application's `client_id`. */
  clientId: string;
  /** The local application's `client_secret`. */
  clientSecret: string;
  /** Where connections are read and refreshed pairs persisted. */
  tokens: TokenStore;
  /**
   * The OAuth servers tokens may be refreshed at (B24_OAUTH_URL origins; the first is the
   * default). A portal's stored `server_endpoint` is used only when it is on this list;
   * otherwise the refresh goes to the first entry, never to the stored address.
   */
  oauthServers: readonly string[];
  /** Requests per second per portal. Default 2 (Bitrix24's drain rate on most plans). */
  rate?: number;
  /** Burst per portal. Default 50 (Bitrix24's bucket size on most plans). */
  burst?: number;
  /** Per-portal limits that differ (e.g. Enterprise: `{rate: 5, burst: 250}`). */
  bucketOverrides?: Record<string, BucketLimits>;
  /**
   * A per-portal budget shared by every instance (Bitrix24 counts per portal and source IP);
   * when absent, the in-process bucket is the budget (one instance).
   */
  sharedBudget?: {
    /** Takes one request; resolves to how long to wait before sending it. */
    take(portalId: string, limits: BucketLimits): Promise<number>;
    /** Bitrix24 said we were over: fill the bucket. */
    penalize(portalId: string, limits: BucketLimits): Promise<void>;
  };
  /** Time source for the bucket and backoff. Default the system clock. */
  clock?: Clock;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  logger?: Logger;
  /** Per HTTP request. Default 30 000 ms. */
  timeoutMs?: number;
  /** Retries of a transient failure (limit, 5xx, network) before giving up. Default 5. */
  maxRetries?: number;
  /** Exponential backoff between retries, with jitter. Default 500 ms doubling up to 30 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * A method blocked by OPERATION_TIME_LIMIT (429) is not called again on that portal before
   * its `operating_reset_at`. A call waits for it when the block lifts within this many ms,
   * then retries; a longer block fails the call at once with a retryable error whose
   * `retryAfterMs` is the rest of the wait (the caller reschedules; a worker must not hold
   * claimed work for up to 10 minutes). Default 30 000 ms.
   */
  maxLimitWaitMs?: number;
}

/** What a REST method answered: `result` plus the paging fields of list methods. */
export interface RawAnswer {
  result: unknown;
  /** Total matching records (list methods with `start >= 0`). */
  total?: number;
  /** `start` of the next page, when there is one. */
  next?: number;
}

export interface Bitrix24Client extends Bitrix24Api {
  /** Like `call`, but also returns `total` / `next`. */
  callRaw(portalId: string, method: string, params?: Record<string, unknown>): Promise<RawAnswer>;
  /** Refreshes the portal's tokens now (single-flight), persists and returns the new pair. */
  refresh(portalId: string): Promise<PortalTokens>;
  /** REST HTTP requests sent to the portal so far (each retry counts; OAuth calls do not). */
  restRequests(portalId: string): number;
  /** Drops the cached connection so the next call reads the TokenStore (e.g. after a reinstall). */
  forget(portalId: string): void;
  /** The client's per-portal limiter. */
  readonly bucket: LeakyBucket;
  /**
   * Portals whose REST API refuses us as a whole (a plan without REST), since when and what
   * the administrator should do. A portal leaves the list on its next successful call.
   */
  accessProblems(): PortalAccessProblem[];
  /** Ends every wait for a Bitrix24 limit (with a retryable error): the service is stopping. */
  close(): void;
}

const METHOD_NAME = /^[a-zA-Z0-9_.]+$/;
/** 401 answers that a fresh token can cure. */
const AUTH_ERRORS = new Set(['expired_token', 'invalid_token']);
/** Refresh a token this long before its known expiry instead of waiting for a 401. */
const EARLY_REFRESH_MS = 30_000;
/** Token renewals tried within one call before it gives up with action 'pause'. */
const MAX_AUTH_RENEWALS = 2;

/** When a blocked method's reset time is unknown, look again after this long. */
const UNKNOWN_RESET_WAIT_MS = 60_000;
/** Waits for OPERATION_TIME_LIMIT within one call before it gives up. */
const MAX_LIMIT_WAITS = 12;
/** `operating_reset_at` has one-second resolution: retry a moment after it. */
const RESET_MARGIN_MS = 1_000;

type Attempt =
  | { ok: true; answer: RawAnswer }
  | { ok: false; error: Bitrix24Error; authFailure: boolean; time?: unknown };

/**
 * A Bitrix24 REST client for an OAuth local application, one instance for all portals.
 *
 * Every request goes through a per-portal leaky bucket. A `401 expired_token` (or
 * `invalid_token`) triggers one refresh per portal at a time (concurrent calls wait for
 * it), the new pair is saved, and the request is repeated. Limits, 5xx and network errors
 * are retried with exponential backoff and jitter; what still fails is thrown as a
 * Bitrix24Error whose `action` says whether to retry later, pause or give up.
 */
export function createBitrix24Client(opts: Bitrix24ClientOptions): Bitrix24Client {
  const clock = opts.clock ?? systemClock;
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxRetries = opts.maxRetries ?? 5;
  const baseMs = opts.backoff?.baseMs ?? 500;
  const maxMs = opts.backoff?.maxMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const log = opts.logger;
  const bucket = new LeakyBucket({
    rate: opts.rate ?? 2,
    burst: opts.burst ?? 50,
    clock,
    overrides: opts.bucketOverrides,
  });

  const maxLimitWaitMs = opts.maxLimitWaitMs ?? 30_000;
  const limits = new OperatingLimits();
  const access = new Map<string, PortalAccessProblem>();
  const closing = new AbortController();
  const oauth = trustedOAuthServers(opts.oauthServers);
  const untrustedWarned = new Set<string>();
  const connections = new Map<string, PortalConnection>();
  const renewals = new Map<string, Promise<void>>();
  const counts = new Map<string, number>();

  async function connection(portalId: string): Promise<PortalConnection> {
    const cached = connections.get(portalId);
    if (cached) return cached;
    const loaded = await opts.tokens.loadConnection(portalId);
    if (!loaded) {
      throw new Bitrix24Error(
        `Bitrix24 portal ${portalId} is not installed: no stored connection`,
        {
          action: 'pause',
          code: 'B24_PORTAL_NOT_INSTALLED',
        },
      );
    }
    connections.set(portalId, loaded);
    return loaded;
  }

  function backoffMs(attempt: number): number {
    const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
    // "Equal jitter": at least half the step, so retries of many callers spread out.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  async function attempt(
    portalId: string,
    conn: PortalConnection,
    method: string,
    params: Record<string, unknown>,
  ): Promise<Attempt> {
    counts.set(portalId, (counts.get(portalId) ?? 0) + 1);
    let res: Response;
    try {
      res = await fetchImpl(`${conn.clientEndpoint}${method}.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ ...params, auth: conn.accessToken }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return { ok: false, error: transportError(method, err), authFailure: false };
    }
    const body = await readJson(res);
    if (body && typeof body.error === 'string') {
      const b24Error = body.error;
      const description =
        typeof body.error_description === 'string' ? body.error_description : undefined;
      return {
        ok: false,
        error: isRestUnavailable(b24Error, res.status, description)
          ? new Bitrix24RestUnavailableError(conn.domain || portalId, {
              httpStatus: res.status,
              ...(description ? { description } : {}),
            })
          : bitrix24ErrorFromAnswer({
              what: method,
              httpStatus: res.status,
              b24Error,
              description,
            }),
        authFailure: AUTH_ERRORS.has(b24Error),
        time: body.time,
      };
    }
    if (!res.ok || !body || !('result' in body)) {
      // A proxy page or an empty 200: the method may or may not have run.
      const error = res.ok
        ? new Bitrix24Error(`Bitrix24 ${method} answered ${res.status} without a JSON result`, {
            action: 'retry',
            httpStatus: res.status,
            code: 'B24_UNEXPECTED_ANSWER',
            ambiguous: true,
          })
        : bitrix24ErrorFromAnswer({ what: method, httpStatus: res.status });
      return { ok: false, error, authFailure: false };
    }
    limits.note(portalId, method, body.time);
    const answer: RawAnswer = { result: body.result };
    const total = Number(body.total);
    if (body.total !== undefined && Number.isFinite(total)) answer.total = total;
    const next = Number(body.next);
    if (body.next !== undefined && Number.isFinite(next)) answer.next = next;
    return { ok: true, answer };
  }

  async function doRefresh(portalId: string): Promise<PortalTokens> {
    const conn = await connection(portalId);
    const trusted = oauth.match(conn.serverEndpoint);
    const serverEndpoint = trusted ?? oauth.defaultEndpoint;
    if (!trusted && !untrustedWarned.has(portalId)) {
      untrustedWarned.add(portalId);
      log?.warn(
        { portalId, stored: conn.serverEndpoint, using: serverEndpoint },
        'bitrix24: the stored OAuth server is not on B24_OAUTH_URL; refreshing at the default one',
      );
    }
    let fresh: PortalTokens;
    try {
      fresh = await refreshTokens({
        clientId: opts.clientId,
        clientSecret: opts.clientSecret,
        serverEndpoint,
        refreshToken: conn.refreshToken,
        fetch: fetchImpl,
        timeoutMs,
        now: clock.now(),
      });
    } catch (err) {
      if (err instanceof Bitrix24Error && err.b24Error === 'invalid_grant') {
        // Another instance may have spent our refresh token and saved its new pair.
        const stored = await opts.tokens.loadConnection(portalId);
        if (stored && stored.refreshToken !== conn.refreshToken) {
          connections.set(portalId, stored);
          log?.info(
            { portalId },
            'bitrix24: refresh token was rotated elsewhere; using the stored pair',
          );
          return {
            accessToken: stored.accessToken,
            refreshToken: stored.refreshToken,
            expiresAt: stored.expiresAt,
          };
        }
        log?.error(
          { portalId },
          'bitrix24: refresh token rejected (invalid_grant); reinstall needed',
        );
      }
      throw err;
    }
    // Save before use: the old refresh token is already spent, so losing the new pair
    // would lock us out of the portal until it is reinstalled.
    await opts.tokens.saveTokens(portalId, fresh);
    connections.set(portalId, { ...conn, ...fresh });
    log?.info({ portalId }, 'bitrix24: tokens refreshed');
    return fresh;
  }

  /** Runs `fn` as the portal's only renewal in flight; concurrent callers share its outcome. */
  function singleFlight(portalId: string, fn: () => Promise<void>): Promise<void> {
    const running = renewals.get(portalId);
    if (running) return running;
    const p = fn().finally(() => renewals.delete(portalId));
    renewals.set(portalId, p);
    return p;
  }

  /**
   * After a 401 with `failedToken`: when another call already renewed, just use its token;
   * when the store holds a different token (another instance refreshed, or a reinstall),
   * adopt it; otherwise refresh.
   */
  async function renewAfterAuthFailure(portalId: string, failedToken: string): Promise<void> {
    const current = connections.get(portalId);
    if (current && current.accessToken !== failedToken) return;
    await singleFlight(portalId, async () => {
      const stored = await opts.tokens.loadConnection(portalId);
      if (stored && stored.accessToken !== failedToken) {
        connections.set(portalId, stored);
        return;
      }
      if (stored) connections.set(portalId, stored);
      await doRefresh(portalId);
    });
  }

  /**
   * Waits until a blocked method's `operating_reset_at` (plus a second), or throws a
   * retryable error when that is further away than `maxLimitWaitMs` or the client closes.
   */
  async function waitForReset(portalId: string, method: string, until: number): Promise<void> {
    const ms = until + RESET_MARGIN_MS - clock.now();
    const blockedError = (why: string) =>
      new Bitrix24Error(
        `Bitrix24 blocked ${method} on portal ${portalId} until ${new Date(until).toISOString()} (OPERATION_TIME_LIMIT: its server-time budget is spent); ${why}`,
        {
          action: 'retry',
          code: 'B24_OPERATION_TIME_LIMIT',
          b24Error: 'OPERATION_TIME_LIMIT',
          httpStatus: 429,
          retryAfterMs: Math.max(0, ms),
        },
      );
    if (closing.signal.aborted) throw blockedError('the client is closing');
    if (ms > maxLimitWaitMs) throw blockedError('retry later');
    log?.warn(
      { portalId, method, until: new Date(until).toISOString() },
      'bitrix24: method blocked by OPERATION_TIME_LIMIT; waiting for operating_reset_at',
    );
    await clock.sleep(ms, closing.signal);
    if (closing.signal.aborted) throw blockedError('the client is closing');
  }

  /** First ACCESS_DENIED for the plan in this run: log it once, show it on /readyz. */
  function accessLost(portalId: string, domain: string, err: Bitrix24RestUnavailableError): void {
    if (access.has(portalId)) return;
    access.set(portalId, {
      portalId,
      ...(domain ? { domain } : {}),
      problem: 'rest_unavailable',
      message: err.message,
      since: clock.now(),
    });
    log?.error({ portalId, domain }, err.message);
  }

  function accessRestored(portalId: string): void {
    if (!access.delete(portalId)) return;
    log?.info({ portalId }, 'bitrix24: the portal accepts REST calls again');
  }

  async function callRaw(
    portalId: string,
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<RawAnswer> {
    if (!METHOD_NAME.test(method)) {
      throw new Bitrix24Error(`Not a Bitrix24 method name: ${JSON.stringify(method)}`, {
        action: 'permanent',
        code: 'B24_BAD_METHOD',
      });
    }
    let transient = 0;
    let renewalsDone = 0;
    let limitWaits = 0;
    for (;;) {
      const blocked = limits.blockedUntil(portalId, method, clock.now());
      if (blocked !== undefined) await waitForReset(portalId, method, blocked);
      let conn = await connection(portalId);
      if (renewalsDone === 0 && conn.expiresAt - clock.now() < EARLY_REFRESH_MS) {
        // Renew a token we know is (about to be) expired before using it: the 401 it would
        // earn costs a request from the portal's bucket. OAuth calls do not count there.
        const stale = conn.accessToken;
        await singleFlight(portalId, async () => {
          if (connections.get(portalId)?.accessToken !== stale) return;
          await doRefresh(portalId);
        }).catch((err) =>
          log?.warn(
            { portalId, err: (err as Error).message },
            'bitrix24: early token refresh failed; trying the old token',
          ),
        );
        conn = await connection(portalId);
      }
      if (opts.sharedBudget) {
        // Several instances: the portal's budget is shared through the database.
        const waitMs = await opts.sharedBudget.take(portalId, bucket.limits(portalId));
        if (waitMs > 0) await clock.sleep(waitMs);
      } else await bucket.acquire(portalId);
      const outcome = await attempt(portalId, conn, method, params);
      if (outcome.ok) {
        accessRestored(portalId);
        return outcome.answer;
      }
      const { error } = outcome;
      if (error instanceof Bitrix24RestUnavailableError) {
        accessLost(portalId, conn.domain, error);
        throw error;
      }
      if (error.b24Error === 'OPERATION_TIME_LIMIT') {
        if (limitWaits >= MAX_LIMIT_WAITS) throw error;
        limitWaits += 1;
        const until = limits.block(
          portalId,
          method,
          outcome.time,
          clock.now(),
          UNKNOWN_RESET_WAIT_MS,
        );
        await waitForReset(portalId, method, until);
        continue;
      }
      if (outcome.authFailure) {
        if (renewalsDone >= MAX_AUTH_RENEWALS) {
          throw new Bitrix24Error(`${error.message} (still after renewing the token)`, {
            action: 'pause',
            httpStatus: error.httpStatus,
            b24Error: error.b24Error,
            description: error.description,
          });
        }
        renewalsDone += 1;
        await renewAfterAuthFailure(portalId, conn.accessToken);
        continue;
      }
      if (error.action !== 'retry' || transient >= maxRetries) throw error;
      if (error.b24Error === 'QUERY_LIMIT_EXCEEDED') {
        bucket.penalize(portalId);
        await opts.sharedBudget?.penalize(portalId, bucket.limits(portalId));
      }
      const delay = backoffMs(transient);
      transient += 1;
      log?.warn(
        { portalId, method, code: error.code, attempt: transient, delayMs: delay },
        'bitrix24: transient failure, retrying',
      );
      await clock.sleep(delay);
    }
  }

  return {
    bucket,
    callRaw,
    async call<T = unknown>(portalId: string, method: string, params?: Record<string, unknown>) {
      return (await callRaw(portalId, method, params)).result as T;
    },
    async batch(
      portalId: string,
      commands: Record<string, BatchCommand>,
    ): Promise<Record<string, BatchItemResult>> {
      const cmd = encodeBatch(commands);
      const keys = Object.keys(cmd);
      if (keys.length === 0) return {};
      const answer = await callRaw(portalId, 'batch', { halt: 0, cmd });
      return decodeBatch(keys, answer.result);
    },
    async refresh(portalId: string): Promise<PortalTokens> {
      await singleFlight(portalId, async () => {
        await doRefresh(portalId);
      });
      const conn = await connection(portalId);
      return {
        accessToken: conn.accessToken,
        refreshToken: conn.refreshToken,
        expiresAt: conn.expiresAt,
      };
    },
    restRequests: (portalId: string) => counts.get(portalId) ?? 0,
    accessProblems: () => [...access.values()],
    close: () => closing.abort(),
    forget(portalId: string) {
      connections.delete(portalId);
    },
  };
}
