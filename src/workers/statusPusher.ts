import type { Logger } from 'pino';
import type { BatchCommand, Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Connection } from '../store/dialects/types.js';
import { acquireLease } from '../store/leases.js';
import {
  dropPush,
  markPushed,
  type PendingPush,
  pendingPushes,
  retryPush,
} from '../store/pushes.js';

/** Bitrix24 accepts at most 50 commands in one `batch`. */
export const BATCH_SIZE = 50;

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
  /** Tick between scans (default 250 ms). */
  tickMs?: number;
  /** Extra batch commands for a push (e.g. a CRM timeline note on failure). */
  extraCommands?: (p: PendingPush) => Record<string, BatchCommand>;
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

/**
 * Pushes message statuses to Bitrix24 (`messageservice.message.status.update`) in `batch`
 * calls of up to 50, one portal at a time, under the portal's leaky bucket (the REST client
 * waits for it). Runs in one instance at a time (lease).
 */
export function makeStatusPusher(opts: StatusPusherOptions) {
  const log = opts.logger.child({ worker: 'status-pusher' });
  const maxDelayMs = opts.maxDelayMs ?? 2000;
  const tickMs = opts.tickMs ?? 250;
  const stop = new AbortController();
  let loop: Promise<void> | null = null;

  async function pushPortal(portalId: string, items: PendingPush[]): Promise<void> {
    const commands: Record<string, BatchCommand> = {};
    for (const p of items) {
      commands[`s_${p.id}`] = {
        method: 'messageservice.message.status.update',
        params: { CODE: opts.senderCode, MESSAGE_ID: p.b24_message_id, STATUS: p.b24_status },
      };
      Object.assign(commands, opts.extraCommands?.(p) ?? {});
    }
    const now = opts.clock.now();
    let results: Awaited<ReturnType<Bitrix24Api['batch']>>;
    try {
      results = await opts.api.batch(portalId, commands);
      opts.onBatch?.(portalId, Object.keys(commands).length, true);
    } catch (err) {
      const e = coerceError(err);
      opts.onBatch?.(portalId, Object.keys(commands).length, false);
      log.warn(
        { portalId, count: items.length, code: e.code, err: e.message },
        'status push failed; will retry',
      );
      for (const p of items)
        await retryPush(opts.conn, p.id, now + pushBackoffMs(p.push_attempts), e.message, now);
      return;
    }
    for (const p of items) {
      const r = results[`s_${p.id}`];
      if (r?.ok) {
        await markPushed(opts.conn, p.id, p.b24_status, now);
      } else if (r && /MESSAGE_NOT_FOUND/i.test(r.error)) {
        log.warn(
          { portalId, messageId: p.id, b24MessageId: p.b24_message_id },
          'Bitrix24 no longer knows this message; status dropped',
        );
        await dropPush(opts.conn, p.id, `${r.error}: ${r.description ?? ''}`.trim(), now);
      } else {
        const error = r
          ? `${r.error}: ${r.description ?? ''}`
          : 'no result for this command in the batch answer';
        log.warn(
          { portalId, messageId: p.id, error },
          'Bitrix24 refused a status update; will retry',
        );
        await retryPush(opts.conn, p.id, now + pushBackoffMs(p.push_attempts), error, now);
      }
    }
  }

  /** One pass: every portal with a full batch, or with a status waiting longer than maxDelayMs. */
  async function tick(): Promise<number> {
    const now = opts.clock.now();
    const pending = await pendingPushes(opts.conn, now, 2000);
    const byPortal = new Map<string, PendingPush[]>();
    for (const p of pending) {
      const list = byPortal.get(p.portal_id) ?? [];
      list.push(p);
      byPortal.set(p.portal_id, list);
    }
    let pushed = 0;
    await Promise.all(
      [...byPortal].map(async ([portalId, list]) => {
        for (let i = 0; i < list.length; i += BATCH_SIZE) {
          const chunk = list.slice(i, i + BATCH_SIZE);
          const oldest = Math.min(...chunk.map((p) => p.push_run_at));
          if (chunk.length < BATCH_SIZE && now - oldest < maxDelayMs) break;
          await pushPortal(portalId, chunk);
          pushed += chunk.length;
        }
      }),
    );
    return pushed;
  }

  async function run(): Promise<void> {
    const signal = stop.signal;
    while (!signal.aborted) {
      try {
        if (await acquireLease(opts.conn, 'status-pusher', opts.holder, 30_000, opts.clock.now()))
          await tick();
      } catch (err) {
        log.error({ err }, 'status pusher error; retrying');
      }
      await opts.clock.sleep(tickMs, signal);
    }
  }

  return {
    start(): void {
      loop ??= run();
    },
    /** One pass now, ignoring the lease (tests, CLI). */
    tick,
    async stop(): Promise<void> {
      stop.abort();
      await loop;
    },
  };
}

export type StatusPusher = ReturnType<typeof makeStatusPusher>;
