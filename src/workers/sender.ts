import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { applyReport } from '../core/applyReport.js';
import { b24StatusPatch } from '../core/b24Status.js';
import { BaseError, coerceError } from '../errors.js';
import type { MtsClient } from '../mts/types.js';
import type { Connection } from '../store/dialects/types.js';
import { acquireLease, releaseLease } from '../store/leases.js';
import { claimDue, finishClaim, type Message, releaseStale, touchClaim } from '../store/outbox.js';
import type { RateLimiter } from './rateLimiter.js';

export interface SenderOptions {
  conn: Connection;
  mts: MtsClient;
  limiter: RateLimiter;
  clock: Clock;
  logger: Logger;
  /** Builds the MTS callback_url for a message (per-portal DLR key); undefined = no callback. */
  callbackUrl: (m: Message) => string | undefined;
  /** The MTS client's per-request timeout (ms): a timed-out send is looked up only after 2×. */
  requestTimeoutMs: number;
  /** Seconds MTS keeps trying (MTS_SMS_TTL); also how long we keep retrying an unreachable MTS. */
  ttlSec: number;
  /** Seconds before the first status poll of an accepted message (MTS_POLL_AFTER). */
  pollAfterSec: number;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** A `sending` claim older than this is considered abandoned (default 120 s). */
  lockTtlMs?: number;
  /** Idle wait between empty claims (default 250 ms; `wake()` cuts it short). */
  idleMs?: number;
  /** How long a `pause` error (bad credentials, no balance) stops sending (default 60 s). */
  pauseMs?: number;
  /**
   * Marketing consent, checked right before sending (so an opt-out or a withdrawn consent
   * that arrived while the message waited still counts). `retryable`: the check itself
   * failed (Bitrix24 unreachable) — try again later, never send unchecked.
   */
  checkConsent?: (
    m: Message,
  ) => Promise<{ allowed: true } | { allowed: false; reason: string; retryable?: boolean }>;
  /** Called on pause errors, e.g. to raise an alert metric. */
  onPause?: (reason: string, until: number) => void;
  /** Called after each message leaves `sending` (metrics, CLI waiting). */
  onOutcome?: (m: Message, outcome: 'accepted' | 'failed' | 'retry') => void;
}

/**
 * Each sender keeps a `sender:<id>` lease alive while it runs. Claims of a sender whose lease
 * has expired (it crashed) are freed after this long instead of the full lock TTL — on
 * PostgreSQL, where other instances cannot tell a crash from a slow send otherwise.
 */
const LIVENESS_TTL_MS = 15_000;

/** Exponential backoff with jitter after the n-th attempt: ~1 s, 2 s, 4 s … capped at 5 min. */
function backoffMs(attempts: number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 12));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * The sender: claim → rate-limit → send → record. Every claimed message is always
 * released (finishClaim in finally paths), and a message whose previous attempt may have
 * reached MTS (`unsure`) is looked up by extra_id before it is sent again: exactly once.
 */
export function makeSender(opts: SenderOptions) {
  const workerId = `sender-${randomUUID()}`;
  const log = opts.logger.child({ worker: 'sender' });
  const concurrency = opts.concurrency ?? 16;
  const lockTtlMs = opts.lockTtlMs ?? 120_000;
  const idleMs = opts.idleMs ?? 250;
  const pauseMs = opts.pauseMs ?? 60_000;
  const stopController = new AbortController();
  // Every in-flight message waits on this signal for its rate slot.
  setMaxListeners(concurrency + 10, stopController.signal);
  let idle: AbortController | null = null;
  let pausedUntil = 0;
  let pauseReason: string | null = null;
  let loop: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();
  let lastSweep = 0;

  async function process(m: Message): Promise<void> {
    const now = () => opts.clock.now();
    // Whether an earlier attempt may have reached MTS; cleared once a lookup says it did not.
    let unsure = Boolean(m.unsure);
    // Which step failed, so an error of the lookup is not taken for the send's.
    let step: 'lookup' | 'consent' | 'send' = 'lookup';
    try {
      if (unsure) {
        // The last attempt may have reached MTS: ask before sending again.
        if (!(await opts.limiter.acquire(stopController.signal)))
          return requeue(m, 0, 'shutting down', true);
        const found = await opts.mts.statusByExtraId(m.id);
        if (found) {
          // MTS may omit extra_id in the answer; we asked by it, so it is ours.
          const { outcome } = await applyReport(
            { conn: opts.conn, clock: opts.clock, logger: log, pollAfterSec: opts.pollAfterSec },
            { ...found, extraId: m.id },
            'lookup',
          );
          if (outcome === 'unknown')
            return requeue(m, backoffMs(m.attempts), 'lookup result could not be recorded', true);
          log.info(
            { messageId: m.id, mtsMessageId: found.messageId },
            'MTS already had this message: recorded, not resent',
          );
          opts.onOutcome?.(m, 'accepted');
          return;
        }
        unsure = false;
      }
      step = 'consent';
      if (m.kind === 'marketing' && opts.checkConsent) {
        const consent = await opts.checkConsent(m);
        if (!consent.allowed) {
          if (consent.retryable) {
            log.warn(
              { messageId: m.id, reason: consent.reason },
              'consent check failed; will retry',
            );
            await requeue(m, backoffMs(m.attempts), consent.reason, unsure);
            opts.onOutcome?.(m, 'retry');
            return;
          }
          log.info(
            { messageId: m.id, reason: consent.reason },
            'marketing SMS refused: no consent',
          );
          return failMessage(m, consent.reason, null);
        }
      }
      step = 'send';
      if (!(await opts.limiter.acquire(stopController.signal)))
        return requeue(m, 0, 'shutting down', unsure);
      // The lookup, the consent check and the rate wait can take long: if our claim was
      // swept meanwhile, another worker owns the message now and must be the only sender.
      if (!(await touchClaim(opts.conn, m.id, workerId, now()))) {
        log.warn(
          { messageId: m.id },
          'claim lost before sending; leaving the message to its new owner',
        );
        return;
      }
      const { messageId } = await opts.mts.send({
        phone: m.phone as string,
        extraId: m.id,
        text: m.text,
        alphaName: m.alpha_name,
        ttl: opts.ttlSec,
        ...(opts.callbackUrl(m) ? { callbackUrl: opts.callbackUrl(m) } : {}),
      });
      const t = now();
      const done = await finishClaim(
        opts.conn,
        m.id,
        workerId,
        {
          state: 'ACCEPTD',
          mts_message_id: messageId,
          accepted_at: t,
          unsure: 0,
          last_error: null,
          next_poll_at: t + opts.pollAfterSec * 1000,
          ...b24StatusPatch(m, 'sent', t),
        },
        t,
      );
      if (!done)
        log.info({ messageId: m.id }, 'accepted by MTS; a delivery report had already recorded it');
      opts.onOutcome?.(m, 'accepted');
    } catch (err) {
      let e = coerceError(err);
      const t = now();
      // A refusal of the lookup or of the consent check says nothing about the message itself.
      if (step !== 'send' && e.action === 'permanent')
        e = new BaseError(e.message, { action: 'retry', code: e.code, cause: e });
      const maybeSent = unsure || (step === 'send' && e.ambiguous);
      if (e.action === 'permanent') {
        log.warn({ messageId: m.id, code: e.code, err: e.message }, 'MTS refused the message');
        return failMessage(m, e.message, e.message);
      }
      // Give up only on a message that certainly never reached MTS, counted from when it was
      // first due (a scheduled or quiet-hours message was not late before then).
      if (t - (m.due_at ?? m.created_at) > opts.ttlSec * 1000 && !maybeSent) {
        const hours = Math.round(opts.ttlSec / 3600);
        return failMessage(
          m,
          `MTS could not be reached for ${hours} h (last error: ${e.message})`,
          e.message,
        );
      }
      if (e.action === 'pause') {
        pause(e.message, t + pauseMs);
        await requeue(m, pauseMs, e.message, maybeSent);
        return;
      }
      let delay = Math.max(e.retryAfterMs ?? 0, backoffMs(m.attempts));
      // After a timeout or a reset MTS may still be working on the request: look it up only
      // once it must have finished, or the lookup could miss it and we would send twice.
      if (step === 'send' && (e.code === 'MTS_TIMEOUT' || e.code === 'MTS_NETWORK'))
        delay = Math.max(delay, 2 * opts.requestTimeoutMs);
      if (e.retryAfterMs) pause(`MTS asked to slow down (${e.code})`, t + e.retryAfterMs);
      log.warn(
        { messageId: m.id, code: e.code, err: e.message, retryInMs: delay, ambiguous: maybeSent },
        'send failed; will retry',
      );
      await requeue(m, delay, e.message, maybeSent);
      opts.onOutcome?.(m, 'retry');
    }
  }

  /** Ends a claimed message as `failed` with the reason; Bitrix24 will be told. */
  async function failMessage(m: Message, reason: string, lastError: string | null): Promise<void> {
    const t = opts.clock.now();
    await finishClaim(
      opts.conn,
      m.id,
      workerId,
      {
        state: 'failed',
        fail_reason: reason,
        last_error: lastError,
        final_at: t,
        unsure: 0,
        ...b24StatusPatch(m, 'failed', t),
      },
      t,
    );
    opts.onOutcome?.(m, 'failed');
  }

  async function requeue(
    m: Message,
    delayMs: number,
    error: string,
    unsure: boolean,
  ): Promise<void> {
    const t = opts.clock.now();
    await finishClaim(
      opts.conn,
      m.id,
      workerId,
      { state: 'queued', run_at: t + delayMs, last_error: error, unsure: unsure ? 1 : 0 },
      t,
    );
  }

  function pause(reason: string, until: number): void {
    if (until <= pausedUntil) return;
    pausedUntil = until;
    pauseReason = reason;
    log.error({ until: new Date(until).toISOString(), reason }, 'sending paused');
    opts.onPause?.(reason, until);
  }

  async function sweep(): Promise<void> {
    const t = opts.clock.now();
    if (t - lastSweep < 10_000) return;
    lastSweep = t;
    const n = await releaseStale(opts.conn, t - lockTtlMs, t, t - LIVENESS_TTL_MS);
    if (n)
      log.warn(
        { count: n },
        'released abandoned sending claims; they will be checked with MTS before any resend',
      );
  }

  async function run(): Promise<void> {
    const signal = stopController.signal;
    const alive = () =>
      acquireLease(
        opts.conn,
        `sender:${workerId}`,
        workerId,
        LIVENESS_TTL_MS,
        opts.clock.now(),
      ).catch(() => false);
    await alive();
    const heartbeat = setInterval(alive, LIVENESS_TTL_MS / 3);
    heartbeat.unref();
    signal.addEventListener('abort', () => clearInterval(heartbeat), { once: true });
    // On SQLite only one instance runs, so every `sending` row is a leftover of a crash.
    if (!opts.conn.caps.multiInstance) {
      const t = opts.clock.now();
      const n = await releaseStale(opts.conn, t + 1, t);
      if (n)
        log.warn({ count: n }, 'recovered messages that were being sent when the service stopped');
    }
    while (!signal.aborted) {
      try {
        await sweep();
        const t = opts.clock.now();
        if (pausedUntil > t) {
          await opts.clock.sleep(Math.min(pausedUntil - t, 1000), signal);
          continue;
        }
        const free = concurrency - inFlight.size;
        const claimed = free > 0 ? await claimDue(opts.conn, workerId, t, free) : [];
        if (claimed.length === 0) {
          if (inFlight.size >= concurrency) await Promise.race(inFlight);
          else {
            idle = new AbortController();
            await opts.clock.sleep(idleMs, idle.signal);
            idle = null;
          }
          continue;
        }
        for (const m of claimed) {
          const p: Promise<void> = process(m)
            .catch((err) =>
              log.error(
                { err, messageId: m.id },
                'sender crashed on a message; its claim will be swept',
              ),
            )
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      } catch (err) {
        log.error({ err }, 'sender loop error; retrying in 1 s');
        await opts.clock.sleep(1000, signal);
      }
    }
  }

  return {
    workerId,
    start(): void {
      loop ??= run();
    },
    /** Cuts the idle wait short: a message was just queued. */
    wake(): void {
      idle?.abort();
    },
    /** Stops claiming and waits for in-flight sends to be recorded (graceful shutdown). */
    async stop(): Promise<void> {
      stopController.abort();
      idle?.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
      await releaseLease(opts.conn, `sender:${workerId}`, workerId).catch(() => {});
    },
    status: () => ({
      inFlight: inFlight.size,
      pausedUntil: pausedUntil > opts.clock.now() ? pausedUntil : null,
      pauseReason,
    }),
  };
}

export type Sender = ReturnType<typeof makeSender>;
