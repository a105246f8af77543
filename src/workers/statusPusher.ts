import type { Logger } from 'pino';
import { isLimitError } from '../bitrix24/patience.js';
import type { BatchCommand, Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { isFinalB24Status } from '../domain/status.js';
import { coerceError } from '../errors.js';
import {
  addEvents,
  type Connection,
  dropPush,
  inTransaction,
  type MessageEvent,
  markPushedMany,
  markTimelineNoted,
  type PendingPush,
  pendingPushes,
  portalsWithPushes,
  retryPush,
} from '../store/index.js';
import { idlePollMs } from './idlePolling.js';
import { makeSingletonLoop } from './singletonLoop.js';

/** Bitrix24 accepts at most 50 commands in one `batch`. */
export const BATCH_SIZE = 50;

/** Statuses fetched per portal and pass: 10 batches, about 5 s of a 2 req/s budget. */
const PER_PORTAL = 500;

export interface StatusPusherOptions {
  conn: Connection;
  api: Bitrix24Api;
  clock: Clock;
  logger: Logger;
  /** Our code of the SMS provider (`mts_sms_by`). */
  senderCode: string;
  /**
   * How long a pending status may wait for companions before a partial batch goes
   * (default 2000 ms). Coalescing is what lets `sent` and `delivered` of a fast message
   * cost one command, and 50 statuses cost one REST request.
   */
  maxDelayMs?: number;
  /** Tick between scans (default: idlePollMs). */
  tickMs?: number;
  /** Extra batch commands for a push (a CRM timeline note on failure), by portal. */
  extraCommands?: (p: PendingPush) => Record<string, BatchCommand>;
  /** Whether extra commands are wanted for this portal (default: yes). */
  extrasEnabled?: (portalId: string) => Promise<boolean>;
  /** The timeline entry of a campaign message's final status (it has no Bitrix24 message). */
  campaignLog?: (p: PendingPush) => BatchCommand | undefined;
  /** Called per REST batch sent (metrics). */
  onBatch?: (portalId: string, commands: number, ok: boolean) => void;
  /** Holder id for the singleton lease (several instances on PostgreSQL). */
  holder: string;
}

/** 5 s, 10 s … capped at 10 min: a portal that is down is retried for as long as it takes. */
function pushBackoffMs(attempts: number): number {
  const base = Math.min(600_000, 5000 * 2 ** Math.min(attempts, 10));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Bitrix24's refusal of one command, as stored and shown. */
function refusal(r: { error: string; description?: string | undefined }): string {
  return `${r.error}: ${r.description ?? ''}`.trim();
}

/** The history step of a status Bitrix24 refused or could not take (`retry`: it is tried again). */
function refusedEvent(p: PendingPush, error: string, retry: boolean, now: number): MessageEvent {
  return {
    messageId: p.id,
    kind: 'push-refused',
    at: now,
    detail: { status: p.b24_status, error, retry },
  };
}

/**
 * Pushes message statuses to Bitrix24 (`messageservice.message.status.update`) in `batch`
 * calls of up to 50, one portal at a time, under the portal's leaky bucket (the REST client
 * waits for it). Runs in one instance at a time (lease).
 */
export function makeStatusPusher(opts: StatusPusherOptions) {
  const log = opts.logger.child({ worker: 'status-pusher' });
  const maxDelayMs = opts.maxDelayMs ?? 2000;
  const tickMs = opts.tickMs ?? idlePollMs(opts.conn);

  async function pushPortal(
    portalId: string,
    chunk: PendingPush[],
    extras: Map<string, Record<string, BatchCommand>>,
  ): Promise<void> {
    const commands: Record<string, BatchCommand> = {};
    const unloggable: PendingPush[] = [];
    for (const p of chunk) {
      if (p.b24_message_id === null) {
        const log = opts.campaignLog?.(p);
        if (log) commands[`s_${p.id}`] = log;
        else unloggable.push(p);
        continue;
      }
      commands[`s_${p.id}`] = {
        method: 'messageservice.message.status.update',
        params: {
          CODE: p.provider_code ?? opts.senderCode,
          MESSAGE_ID: p.b24_message_id,
          STATUS: p.b24_status,
        },
      };
      Object.assign(commands, extras.get(p.id) ?? {});
    }
    if (unloggable.length > 0) {
      await inTransaction(opts.conn, async (conn) => {
        for (const p of unloggable)
          await dropPush(conn, p.id, 'no CRM record to log on', opts.clock.now());
      });
    }
    const items = chunk.filter((p) => commands[`s_${p.id}`] !== undefined);
    if (items.length === 0) return;
    const now = opts.clock.now();
    let results: Awaited<ReturnType<Bitrix24Api['batch']>>;
    try {
      results = await opts.api.batch(portalId, commands);
      opts.onBatch?.(portalId, items.length, true);
    } catch (err) {
      const e = coerceError(err);
      opts.onBatch?.(portalId, items.length, false);
      log.warn(
        { portalId, count: items.length, code: e.code, err: e.message },
        'status push failed; will retry',
      );
      await inTransaction(opts.conn, async (conn) => {
        for (const p of items)
          await retryPush(conn, p.id, now + pushBackoffMs(p.push_attempts), e.message, now);
        await addEvents(
          conn,
          items.map((p) => refusedEvent(p, e.message, true, now)),
        );
      });
      return;
    }
    // One transaction for the batch's outcomes: one commit (one fsync on SQLite), not 50.
    await inTransaction(opts.conn, (conn) =>
      recordOutcomes(conn, portalId, items, extras, results, now),
    );
  }

  async function recordOutcomes(
    conn: Connection,
    portalId: string,
    items: PendingPush[],
    extras: Map<string, Record<string, BatchCommand>>,
    results: Awaited<ReturnType<Bitrix24Api['batch']>>,
    now: number,
  ): Promise<void> {
    const pushed: { id: string; status: string }[] = [];
    const events: MessageEvent[] = [];
    const refused = (p: PendingPush, error: string, retry: boolean) =>
      events.push(refusedEvent(p, error, retry, now));
    for (const p of items) {
      const noteKeys = Object.keys(extras.get(p.id) ?? {});
      if (noteKeys.length) {
        // One try only: a note that Bitrix24 refuses (entity deleted…) must not hold the status.
        for (const k of noteKeys) {
          const r = results[k];
          if (r && !r.ok)
            log.warn(
              { portalId, messageId: p.id, error: r.error, description: r.description },
              'CRM timeline note refused',
            );
        }
        await markTimelineNoted(conn, p.id);
      }
      const r = results[`s_${p.id}`];
      if (r?.ok) {
        pushed.push({ id: p.id, status: p.b24_status });
        events.push({
          messageId: p.id,
          kind: 'push',
          at: now,
          detail: {
            status: p.b24_status,
            ...(p.b24_message_id === null ? { timelineLog: true } : {}),
          },
        });
      } else if (
        r &&
        p.b24_message_id === null &&
        !isLimitError(r.error) &&
        !/INTERNAL|TIMEOUT/i.test(r.error)
      ) {
        // A campaign's timeline entry refused for good (record deleted…): the SMS is not held up.
        log.warn(
          { portalId, messageId: p.id, error: r.error, description: r.description },
          'CRM timeline log of a campaign SMS refused',
        );
        const why = refusal(r);
        await dropPush(conn, p.id, why, now);
        refused(p, why, false);
      } else if (r && /MESSAGE_NOT_FOUND/i.test(r.error)) {
        log.warn(
          { portalId, messageId: p.id, b24MessageId: p.b24_message_id },
          'Bitrix24 no longer knows this message; status dropped',
        );
        const why = refusal(r);
        await dropPush(conn, p.id, why, now);
        refused(p, why, false);
      } else {
        const error = r
          ? `${r.error}: ${r.description ?? ''}`
          : 'no result for this command in the batch answer';
        log.warn(
          { portalId, messageId: p.id, error },
          'Bitrix24 refused a status update; will retry',
        );
        await retryPush(conn, p.id, now + pushBackoffMs(p.push_attempts), error, now);
        refused(p, error, true);
      }
    }
    await markPushedMany(conn, pushed, now);
    await addEvents(conn, events);
  }

  /**
   * One pass. A final status (delivered, undelivered, failed) may go at once; a non-final one
   * (`sent`) waits maxDelayMs, because it is usually superseded within seconds and only the
   * latest status matters. A portal's batch goes when it is full (50 commands) or when its
   * oldest eligible status has waited maxDelayMs.
   */
  async function tick(signal: AbortSignal = new AbortController().signal): Promise<number> {
    const now = opts.clock.now();
    // Per portal: each portal's oldest statuses, so one portal's backlog starves no other.
    const byPortal = new Map<string, PendingPush[]>();
    for (const portalId of await portalsWithPushes(opts.conn, now)) {
      const list = (await pendingPushes(opts.conn, now, PER_PORTAL, portalId)).filter(
        (p) => isFinalB24Status(p.b24_status) || now - p.push_run_at >= maxDelayMs,
      );
      if (list.length) byPortal.set(portalId, list);
    }
    let pushed = 0;
    await Promise.all(
      [...byPortal].map(async ([portalId, list]) => {
        const withExtras =
          opts.extraCommands && (await (opts.extrasEnabled?.(portalId) ?? Promise.resolve(true)));
        const extras = new Map<string, Record<string, BatchCommand>>();
        let chunk: PendingPush[] = [];
        let size = 0;
        const flush = async (force: boolean) => {
          if (chunk.length === 0 || signal.aborted) return false;
          const oldest = Math.min(...chunk.map((p) => p.push_run_at));
          if (!force && now - oldest < maxDelayMs) return false;
          await pushPortal(portalId, chunk, extras);
          pushed += chunk.length;
          chunk = [];
          size = 0;
          return true;
        };
        for (const p of list) {
          const extra =
            withExtras && p.b24_message_id !== null ? (opts.extraCommands?.(p) ?? {}) : {};
          const n = 1 + Object.keys(extra).length;
          if (size + n > BATCH_SIZE) await flush(true);
          extras.set(p.id, extra);
          chunk.push(p);
          size += n;
        }
        await flush(size >= BATCH_SIZE);
      }),
    );
    return pushed;
  }

  const runner = makeSingletonLoop({
    conn: opts.conn,
    clock: opts.clock,
    logger: log,
    name: 'status-pusher',
    holder: opts.holder,
    tickMs,
    tick,
  });

  return {
    start: runner.start,
    /** One pass now, ignoring the lease (tests, CLI). */
    tick,
    stop: runner.stop,
  };
}

export type StatusPusher = ReturnType<typeof makeStatusPusher>;
