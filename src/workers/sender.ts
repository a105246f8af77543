import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { applyReport } from '../core/applyReport.js';
import type { SendingIncident } from '../core/incidentAlerts.js';
import { makeMessageStates } from '../core/messageState.js';
import {
  effectivePace,
  FIRST_PROBE_MS,
  nextProbeInterval,
  slotSpacingUs,
  slowedPace,
} from '../domain/pace.js';
import { BaseError, coerceError } from '../errors.js';
import type { MtsClient } from '../mts/types.js';
import {
  type AlphaHold,
  acquireLease,
  type Connection,
  type Contract,
  claimForSending,
  hasDueWork,
  holdAlpha,
  isClaimedBy,
  listContracts,
  listHolds,
  type Message,
  pauseContract,
  releaseAlpha,
  releaseAlphaProbe,
  releaseLease,
  releaseStale,
  reserveSlots,
  resumeContract,
  setPace,
  takeContractProbe,
} from '../store/index.js';
import { idlePollMs } from './idlePolling.js';

/** Something an operator should know about: a pause or hold began or ended. */
export type { SendingIncident };

export interface SenderOptions {
  conn: Connection;
  /**
   * Awaited before the first claim: the service starts the MTS departure thread here and sends
   * once it has loaded, so the first requests are not handed to a thread still loading.
   */
  beforeStart?: () => Promise<void>;
  /** The MTS client of a contract (its own credentials and client id). */
  mtsFor: (contract: Contract) => MtsClient;
  clock: Clock;
  logger: Logger;
  /** Builds the MTS callback_url for a message (per-portal DLR key); undefined = no callback. */
  callbackUrl: (m: Message) => Promise<string | undefined>;
  /** The MTS client's per-request timeout (ms): a timed-out send is looked up only after 2×. */
  requestTimeoutMs: number;
  /** Seconds MTS keeps trying (MTS_SMS_TTL); also how long we keep retrying an unreachable MTS. */
  ttlSec: number;
  /** Seconds before the first status poll of an accepted message (MTS_POLL_AFTER). */
  pollAfterSec: number;
  /**
   * MTS_LOOKUP_GRACE: a lookup that says "not found" counts as "not sent" only this long after
   * the attempt (MTS may commit a timed-out send late). Default 120 s.
   */
  lookupGraceSec?: number;
  /** Jitter headroom per slot, ms (MTS_RATE_HEADROOM_MS, default 15): see domain/pace.ts. */
  headroomMs?: number;
  /** First probe of a paused account or held alpha name after this long (default 5 s). */
  firstProbeMs?: number;
  /**
   * Commits a message's outcome (group commit: outcomes of concurrent sends share one
   * transaction). Default: each on its own.
   */
  commit?: <T>(fn: (conn: Connection) => Promise<T>) => Promise<T>;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** A `sending` claim older than this is considered abandoned (default 120 s). */
  lockTtlMs?: number;
  /** Idle wait between empty polls of the queue (default: idlePollMs; `wake()` cuts it short). */
  idleMs?: number;
  /**
   * Marketing consent, checked right before sending (so an opt-out or a withdrawn consent
   * that arrived while the message waited still counts). `retryable`: the check itself
   * failed (Bitrix24 unreachable) — try again later, never send unchecked.
   */
  checkConsent?: (
    m: Message,
  ) => Promise<{ allowed: true } | { allowed: false; reason: string; retryable?: boolean }>;
  /** A pause or hold began or ended (log, metric, admin alert). */
  onIncident?: (i: SendingIncident) => void;
  /** Called after each message leaves `sending` (metrics, CLI waiting). */
  onOutcome?: (m: Message, outcome: 'accepted' | 'failed' | 'retry' | 'held') => void;
}

/**
 * Each sender keeps a `sender:<id>` lease alive while it runs. Claims of a sender whose lease
 * has expired (it crashed) are freed after this long instead of the full lock TTL — on
 * PostgreSQL, where other instances cannot tell a crash from a slow send otherwise.
 */
const LIVENESS_TTL_MS = 15_000;
/** A claim is sent only while younger than this (and our liveness lease is fresh): see send(). */
const CLAIM_FRESH_MS = LIVENESS_TTL_MS / 2;
/** Claim the next batch when the last reserved slot is this close. */
const REFILL_AHEAD_MS = 400;
/** A batch holds about this much sending time: short, so a new card SMS never waits long. */
const BATCH_SPAN_MS = 250;
/** Contracts and holds are re-read this often (pauses set by other instances). */
const STATE_TTL_MS = 1000;

/** Exponential backoff with jitter after the n-th attempt: ~1 s, 2 s, 4 s … capped at 5 min. */
function backoffMs(attempts: number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 12));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

interface Lane {
  /** Epoch µs of the last slot this instance holds. */
  lastSlotUs: number;
  /** A contract probe in flight: no other claim until it answers. */
  probing: boolean;
}

/**
 * The scheduler: per MTS contract, claim a short batch of due messages (transactional lane
 * first, fair between portals and campaigns) together with the contract's next rate slots,
 * then send each message at its slot. Pauses, alpha-name holds and the adaptive pace live
 * in the database, so every instance obeys them. A message whose previous attempt may have
 * reached MTS (`unsure`) is looked up by extra_id before it is sent again: exactly once.
 */
export function makeSender(opts: SenderOptions) {
  const workerId = `sender-${randomUUID()}`;
  const log = opts.logger.child({ worker: 'sender' });
  const concurrency = opts.concurrency ?? 16;
  const lockTtlMs = opts.lockTtlMs ?? 120_000;
  const idleMs = opts.idleMs ?? idlePollMs(opts.conn);
  const headroomMs = opts.headroomMs ?? 15;
  // A request leaves at most a third of the headroom after its slot; the other two thirds
  // absorb what happens after that check (network, the peer's own scheduling). Measured
  // from the departure thread at 100/s: lateness p99 2.75 ms.
  const maxLatenessMs = headroomMs / 3;
  const graceMs = (opts.lookupGraceSec ?? 120) * 1000;
  const firstProbeMs = opts.firstProbeMs ?? FIRST_PROBE_MS;
  const probeAfter = (previousMs: number, since: number) =>
    nextProbeInterval(previousMs, since, now(), firstProbeMs);
  const stopController = new AbortController();
  // Every message waiting for its rate slot listens on this signal.
  setMaxListeners(concurrency + 10, stopController.signal);
  const states = makeMessageStates({
    conn: opts.conn,
    ...(opts.commit ? { commit: opts.commit } : {}),
    workerId,
    pollAfterSec: opts.pollAfterSec,
  });
  let idle: AbortController | null = null;
  /** The last pass found all `concurrency` sends in flight (the next completion wakes it). */
  let saturated = false;
  let loop: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();
  const lanes = new Map<string, Lane>();
  let contracts: Contract[] = [];
  let holds: AlphaHold[] = [];
  let stateReadAt = Number.NEGATIVE_INFINITY;
  let lastSweep = 0;
  let lastHeartbeat = 0;
  const now = () => opts.clock.now();

  const spacingOf = (c: Contract) =>
    slotSpacingUs(c.rate, effectivePace(c.pace, c.pace_at, now()), headroomMs);

  function laneOf(id: string): Lane {
    let l = lanes.get(id);
    if (!l) {
      l = { lastSlotUs: 0, probing: false };
      lanes.set(id, l);
    }
    return l;
  }

  async function refreshState(force = false): Promise<void> {
    if (!force && now() - stateReadAt < STATE_TTL_MS) return;
    [contracts, holds] = await Promise.all([listContracts(opts.conn), listHolds(opts.conn)]);
    stateReadAt = now();
  }

  /** Sleeps until the slot; false when stopping. */
  async function waitFor(slotUs: number): Promise<boolean> {
    const ms = slotUs / 1000 - now();
    if (ms > 0) await opts.clock.sleep(ms, stopController.signal);
    return !stopController.signal.aborted;
  }

  /**
   * Waits for `slotUs` and returns when the request may leave: at most `headroomMs` after its
   * slot (else a new slot is reserved — the guarantee of no 1 s window over the rate rests on
   * it). False when stopping.
   */
  async function atSlot(contract: Contract, slotUs: number): Promise<boolean> {
    let slot = slotUs;
    for (;;) {
      if (!(await waitFor(slot))) return false;
      if (now() - slot / 1000 <= maxLatenessMs) return true;
      [slot] = (await reserveSlots(
        opts.conn,
        contract.id,
        1,
        spacingOf,
        Math.floor(now() * 1000),
      )) as [number];
    }
  }

  async function newSlot(contract: Contract): Promise<number> {
    const [slot] = await reserveSlots(
      opts.conn,
      contract.id,
      1,
      spacingOf,
      Math.floor(now() * 1000),
    );
    return slot as number;
  }

  async function process(
    contract: Contract,
    m: Message,
    slotUs: number,
    probe: boolean,
  ): Promise<void> {
    const mts = opts.mtsFor(contract);
    // Whether an earlier attempt may have reached MTS; cleared once a lookup says it did not.
    let unsure = Boolean(m.unsure);
    let slot = slotUs;
    // Which step failed, so an error of the lookup is not taken for the send's.
    let step: 'lookup' | 'consent' | 'send' = 'lookup';
    let attemptAt: number | null = null;
    try {
      if (unsure) {
        if (!(await atSlot(contract, slot)))
          return void (await requeue(m, now(), 'shutting down', true));
        const found = await mts.statusByExtraId(m.id);
        if (found) {
          // MTS may omit extra_id in the answer; we asked by it, so it is ours.
          const { outcome } = await applyReport(
            { conn: opts.conn, clock: opts.clock, logger: log, pollAfterSec: opts.pollAfterSec },
            { ...found, extraId: m.id },
            'lookup',
          );
          if (outcome === 'unknown')
            return void (await requeue(
              m,
              now() + backoffMs(m.attempts),
              'lookup result could not be recorded',
              true,
            ));
          log.info(
            { messageId: m.id, mtsMessageId: found.messageId },
            'MTS already had this message: recorded, not resent',
          );
          opts.onOutcome?.(m, 'accepted');
          return;
        }
        // "Not found" soon after an attempt means "not known yet": ask again once the grace
        // has passed since the attempt, and only then send.
        const attempted = m.attempted_at ?? m.locked_at ?? m.updated_at;
        if (now() < attempted + graceMs) {
          await requeue(
            m,
            attempted + graceMs,
            'MTS does not know this message yet; asking again after MTS_LOOKUP_GRACE',
            true,
          );
          return;
        }
        unsure = false;
        slot = await newSlot(contract);
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
            await requeue(m, now() + backoffMs(m.attempts), consent.reason, false);
            opts.onOutcome?.(m, 'retry');
            return;
          }
          log.info(
            { messageId: m.id, reason: consent.reason },
            'marketing SMS refused: no consent',
          );
          await states.fail(m, consent.reason, null, now());
          opts.onOutcome?.(m, 'failed');
          return;
        }
      }
      step = 'send';
      // Everything that may wait goes before the slot: between the slot and the request
      // only synchronous work remains.
      const callbackUrl = await opts.callbackUrl(m);
      const request = {
        phone: m.phone as string,
        extraId: m.id,
        text: m.text,
        alphaName: m.alpha_name,
        ttl: opts.ttlSec,
        ...(callbackUrl ? { callbackUrl } : {}),
      };
      let messageId: string;
      if (mts.sendAt) {
        // The request leaves from the departure thread at its slot (mts/departures.ts), checked
        // there against the same lateness and claim deadlines as below.
        for (;;) {
          if (stopController.signal.aborted)
            return void (await requeue(m, now(), 'shutting down', false));
          const mine = await claimedUntil(m);
          if (mine === null) return;
          attemptAt = Math.max(now(), Math.ceil(slot / 1000));
          const r = await mts.sendAt(
            request,
            { atMs: slot / 1000, maxLateMs: maxLatenessMs, notAfterMs: mine },
            stopController.signal,
          );
          if ('messageId' in r) {
            messageId = r.messageId;
            break;
          }
          attemptAt = null;
          if (r.notSent === 'late') slot = await newSlot(contract);
          // 'stale': the claim is checked again; 'cancelled': stopping (top of the loop).
        }
      } else {
        if (!(await atSlot(contract, slot)))
          return void (await requeue(m, now(), 'shutting down', false));
        if ((await claimedUntil(m)) === null) return;
        attemptAt = now();
        ({ messageId } = await mts.send(request));
      }
      const t = now();
      if (!(await states.accept(m, messageId, t)))
        log.info({ messageId: m.id }, 'accepted by MTS; a delivery report had already recorded it');
      opts.onOutcome?.(m, 'accepted');
      const current = contracts.find((c) => c.id === contract.id) ?? contract;
      if (probe || current.paused_since !== null || contract.paused_since !== null) {
        if (await resumeContract(opts.conn, contract.id, t)) {
          log.warn({ contract: contract.id }, 'MTS accepts messages again: sending resumed');
          opts.onIncident?.({ kind: 'contract-resumed', contractId: contract.id });
          await refreshState(true);
          wake();
        }
      }
      if (m.hold_reason !== null) {
        if (await releaseAlpha(opts.conn, contract.id, m.alpha_name, t)) {
          log.warn(
            { contract: contract.id, alphaName: m.alpha_name },
            'alpha name accepted again: its messages resume',
          );
          opts.onIncident?.({
            kind: 'alpha-released',
            contractId: contract.id,
            alphaName: m.alpha_name,
          });
          await refreshState(true);
          wake();
        }
      }
    } catch (err) {
      await onError(contract, m, coerceError(err), { step, unsure, attemptAt });
    }
  }

  /**
   * Until when the claim is known to be ours, or null (logged) when it is not: a claim is only
   * sent while it is certainly ours. A process frozen longer may have been swept; the new owner
   * looks the message up (with the grace) before any resend, so leaving it is safe and sending
   * it is not. The common case costs nothing: a young claim and a fresh liveness lease cannot
   * have been swept. Otherwise (a slow consent check, a frozen process) the lease is renewed
   * and the claim read back.
   */
  async function claimedUntil(m: Message): Promise<number | null> {
    const fresh = Math.min(m.locked_at ?? 0, lastHeartbeat) + CLAIM_FRESH_MS;
    if (now() <= fresh) return fresh;
    await heartbeat();
    if (now() - lastHeartbeat <= CLAIM_FRESH_MS && (await isClaimedBy(opts.conn, m.id, workerId)))
      return lastHeartbeat + CLAIM_FRESH_MS;
    log.warn(
      { messageId: m.id },
      'claim lost before sending; leaving the message to its new owner',
    );
    return null;
  }

  async function onError(
    contract: Contract,
    m: Message,
    error: BaseError,
    at: { step: 'lookup' | 'consent' | 'send'; unsure: boolean; attemptAt: number | null },
  ): Promise<void> {
    let e = error;
    const t = now();
    // A refusal of the lookup or of the consent check says nothing about the message itself.
    if (at.step !== 'send' && e.action === 'permanent')
      e = new BaseError(e.message, { action: 'retry', code: e.code, cause: e });
    const maybeSent = at.unsure || (at.step === 'send' && e.ambiguous);
    const attemptedAt = maybeSent ? (at.attemptAt ?? m.attempted_at ?? t) : null;
    if (e.action === 'permanent') {
      log.warn({ messageId: m.id, code: e.code, err: e.message }, 'MTS refused the message');
      await states.fail(m, e.message, e.message, t);
      opts.onOutcome?.(m, 'failed');
      return;
    }
    if (e.action === 'pause') {
      const started = await pauseContract(
        opts.conn,
        contract.id,
        { reason: e.message, code: e.code, probeInMs: firstProbeMs },
        t,
      );
      if (started) {
        log.error(
          { contract: contract.id, code: e.code, reason: e.message },
          'sending paused: MTS refuses this account; every message stays queued',
        );
        opts.onIncident?.({
          kind: 'contract-paused',
          contractId: contract.id,
          reason: e.message,
          code: e.code,
        });
      }
      await refreshState(true);
      await requeue(m, t, e.message, maybeSent, attemptedAt);
      opts.onOutcome?.(m, 'retry');
      return;
    }
    if (e.action === 'hold') {
      const started = await holdAlpha(
        opts.conn,
        {
          contractId: contract.id,
          alphaName: m.alpha_name,
          reason: e.message,
          code: e.code,
          probeInMs: firstProbeMs,
        },
        t,
      );
      if (started) {
        log.error(
          { contract: contract.id, alphaName: m.alpha_name, reason: e.message },
          'alpha name held: MTS refuses it; its messages wait, others go on',
        );
        opts.onIncident?.({
          kind: 'alpha-held',
          contractId: contract.id,
          alphaName: m.alpha_name,
          reason: e.message,
        });
      }
      await refreshState(true);
      await states.hold(m, e.message, t);
      opts.onOutcome?.(m, 'held');
      return;
    }
    if (e.action === 'slow') {
      const c = contracts.find((x) => x.id === contract.id) ?? contract;
      const pace = slowedPace(c.pace, c.pace_at, t);
      if (pace !== null && (await setPace(opts.conn, c.id, pace, c.pace_at, t))) {
        log.warn(
          { contract: c.id, code: e.code, pace },
          `MTS asks to slow down: pace lowered to ${Math.round(pace * 100)} % of the contracted rate`,
        );
        await refreshState(true);
      }
      await requeue(m, t + (e.retryAfterMs ?? 1000), e.message, maybeSent, attemptedAt);
      opts.onOutcome?.(m, 'retry');
      return;
    }
    // Give up only on a message that certainly never reached MTS, counted from when it was
    // first due (a scheduled or quiet-hours message was not late before then).
    if (t - (m.due_at ?? m.created_at) > opts.ttlSec * 1000 && !maybeSent) {
      const hours = Math.round(opts.ttlSec / 3600);
      await states.fail(
        m,
        `MTS could not be reached for ${hours} h (last error: ${e.message})`,
        e.message,
        t,
      );
      opts.onOutcome?.(m, 'failed');
      return;
    }
    let delay = Math.max(e.retryAfterMs ?? 0, backoffMs(m.attempts));
    // After a timeout or a reset MTS may still be working on the request: look it up only
    // once it must have finished, or the lookup could miss it and we would send twice.
    if (at.step === 'send' && (e.code === 'MTS_TIMEOUT' || e.code === 'MTS_NETWORK'))
      delay = Math.max(delay, 2 * opts.requestTimeoutMs);
    const loud = (e as { unknownCode?: boolean }).unknownCode === true;
    (loud ? log.error.bind(log) : log.warn.bind(log))(
      { messageId: m.id, code: e.code, err: e.message, retryInMs: delay, ambiguous: maybeSent },
      loud
        ? 'MTS answered an error code we do not know; treating it as transient — report it'
        : 'send failed; will retry',
    );
    await requeue(m, t + delay, e.message, maybeSent, attemptedAt);
    opts.onOutcome?.(m, 'retry');
  }

  async function requeue(
    m: Message,
    runAt: number,
    error: string,
    unsure: boolean,
    attemptedAt?: number | null,
  ): Promise<void> {
    await states.requeue(
      m,
      { runAt, error, unsure, ...(attemptedAt !== undefined ? { attemptedAt } : {}) },
      now(),
    );
  }

  async function sweep(): Promise<void> {
    const t = now();
    if (t - lastSweep < 10_000) return;
    lastSweep = t;
    const n = await releaseStale(opts.conn, t - lockTtlMs, t, t - LIVENESS_TTL_MS);
    if (n)
      log.warn(
        { count: n },
        'released abandoned sending claims; they will be checked with MTS before any resend',
      );
  }

  function dispatch(contract: Contract, m: Message, slotUs: number, probe: boolean): void {
    const p: Promise<void> = process(contract, m, slotUs, probe)
      .catch((err) =>
        log.error({ err, messageId: m.id }, 'sender crashed on a message; its claim will be swept'),
      )
      .finally(() => {
        inFlight.delete(p);
        if (probe) laneOf(contract.id).probing = false;
        // The loop stopped claiming because every slot was taken: a free one is work to do.
        if (saturated) {
          saturated = false;
          wake();
        }
      });
    inFlight.add(p);
  }

  /** Releases one held message per due alpha-name hold as its probe. */
  async function probeHolds(): Promise<boolean> {
    let released = false;
    for (const h of holds) {
      if (h.probe_at > now()) continue;
      const id = await releaseAlphaProbe(
        opts.conn,
        h.contract_id,
        h.alpha_name,
        probeAfter(h.interval_ms, h.since),
        now(),
      );
      if (id) {
        log.info(
          { contract: h.contract_id, alphaName: h.alpha_name, messageId: id },
          'probing a held alpha name with one message',
        );
        released = true;
      }
    }
    if (released) await refreshState(true);
    return released;
  }

  /** One pass over the contracts; returns ms to wait before the next (0: go on at once). */
  async function pass(): Promise<number> {
    await sweep();
    await refreshState();
    await probeHolds();
    let wait = idleMs;
    for (const c of contracts) {
      const lane = laneOf(c.id);
      const t = now();
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        saturated = true;
        return idleMs;
      }
      const aheadMs = lane.lastSlotUs / 1000 - t;
      if (aheadMs > REFILL_AHEAD_MS) {
        wait = Math.min(wait, aheadMs - REFILL_AHEAD_MS);
        continue;
      }
      let probe = false;
      if (c.paused_until !== null) {
        if (lane.probing || c.paused_until > t) {
          wait = Math.min(wait, Math.max(50, c.paused_until - t));
          continue;
        }
        if (!(await hasDueWork(opts.conn, c.id, t))) continue;
        if (
          !(await takeContractProbe(
            opts.conn,
            c.id,
            probeAfter(c.probe_interval_ms, c.paused_since ?? t),
            t,
          ))
        )
          continue;
        probe = true;
      } else if (!(await hasDueWork(opts.conn, c.id, t))) continue;
      const perBatch = Math.ceil(
        c.rate * effectivePace(c.pace, c.pace_at, t) * (BATCH_SPAN_MS / 1000),
      );
      const claim = await claimForSending(opts.conn, c.id, workerId, t, (fresh) => ({
        max: probe ? 1 : Math.max(1, Math.min(free, perBatch)),
        spacingUs: spacingOf(fresh),
      }));
      if (!claim || claim.messages.length === 0) {
        if (probe) log.info({ contract: c.id }, 'probe slot taken but nothing to send');
        continue;
      }
      if (probe) {
        lane.probing = true;
        log.info(
          { contract: c.id, messageId: claim.messages[0]?.id },
          'probing a paused MTS account with one message',
        );
      }
      for (const [i, m] of claim.messages.entries())
        dispatch(claim.contract, m, claim.slotsUs[i] as number, probe);
      lane.lastSlotUs = claim.slotsUs.at(-1) ?? lane.lastSlotUs;
      wait = Math.min(wait, Math.max(0, lane.lastSlotUs / 1000 - now() - REFILL_AHEAD_MS));
    }
    return wait;
  }

  async function heartbeat(): Promise<void> {
    const t = now();
    if (
      await acquireLease(opts.conn, `sender:${workerId}`, workerId, LIVENESS_TTL_MS, t).catch(
        () => false,
      )
    )
      lastHeartbeat = t;
  }

  async function run(): Promise<void> {
    const signal = stopController.signal;
    await opts.beforeStart?.();
    if (signal.aborted) return;
    await heartbeat();
    const beat = setInterval(() => void heartbeat(), LIVENESS_TTL_MS / 3);
    beat.unref();
    signal.addEventListener('abort', () => clearInterval(beat), { once: true });
    // On SQLite only one instance runs, so every `sending` row is a leftover of a crash.
    if (!opts.conn.caps.multiInstance) {
      const t = now();
      const n = await releaseStale(opts.conn, t + 1, t);
      if (n)
        log.warn({ count: n }, 'recovered messages that were being sent when the service stopped');
    }
    while (!signal.aborted) {
      let wait = idleMs;
      try {
        wait = await pass();
      } catch (err) {
        log.error({ err }, 'sender loop error; retrying in 1 s');
        wait = 1000;
      }
      if (signal.aborted) break;
      if (wait > 0) {
        idle = new AbortController();
        // Either a wake (new work) or a stop ends the wait.
        await opts.clock.sleep(wait, AbortSignal.any([idle.signal, signal]));
        idle = null;
      }
    }
  }

  function wake(): void {
    idle?.abort();
  }

  return {
    workerId,
    start(): void {
      loop ??= run();
    },
    /** Cuts the idle wait short: a message was just queued. */
    wake,
    /**
     * Waits for a rate slot of the contract (status polls share MTS_RATE_LIMIT with sends);
     * false when stopping.
     */
    async acquireSlot(contract: Contract): Promise<boolean> {
      return atSlot(contract, await newSlot(contract));
    },
    /** Stops claiming and waits for in-flight sends to be recorded (graceful shutdown). */
    async stop(): Promise<void> {
      stopController.abort();
      idle?.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
      await releaseLease(opts.conn, `sender:${workerId}`, workerId).catch(() => {});
    },
    /** What holds sending back, from the last read of the shared state. */
    status: () => {
      const t = now();
      const paused = contracts.filter((c) => c.paused_since !== null);
      return {
        inFlight: inFlight.size,
        pausedUntil: paused.length ? Math.max(...paused.map((c) => c.paused_until ?? t)) : null,
        pauseReason: paused[0]?.pause_reason ?? null,
        paused: paused.map((c) => ({
          contractId: c.id,
          reason: c.pause_reason,
          code: c.pause_code,
          since: c.paused_since,
          nextProbeAt: c.paused_until,
        })),
        holds: holds.map((h) => ({
          contractId: h.contract_id,
          alphaName: h.alpha_name,
          reason: h.reason,
          since: h.since,
          nextProbeAt: h.probe_at,
        })),
        pace: Object.fromEntries(contracts.map((c) => [c.id, effectivePace(c.pace, c.pace_at, t)])),
      };
    },
  };
}

export type Sender = ReturnType<typeof makeSender>;
