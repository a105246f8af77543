import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import {
  type Connection,
  deleteFinalBefore,
  deleteIdleFlows,
  deleteOrphanReports,
} from '../store/index.js';
import { makeSingletonLoop } from './singletonLoop.js';

export interface RetentionOptions {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  holder: string;
  /** RETENTION_DAYS: final messages older than this are deleted. */
  days: number;
  /** Messages per transaction (default 500). */
  batch?: number;
  /** Pause between passes when there is nothing to delete (default 10 min). */
  tickMs?: number;
  onDeleted?: (n: number) => void;
}

/**
 * Deletes message history older than RETENTION_DAYS in small batches, under a lease (one
 * instance), yielding between batches so intake and sending are never held up for long.
 */
export function makeRetention(opts: RetentionOptions) {
  const log = opts.logger.child({ worker: 'retention' });
  const batch = opts.batch ?? 500;

  /** One pass: deletes everything due, batch by batch; returns how many messages went. */
  async function tick(signal: AbortSignal = new AbortController().signal): Promise<number> {
    const cutoff = opts.clock.now() - opts.days * 86_400_000;
    let total = 0;
    while (!signal.aborted) {
      const n = await deleteFinalBefore(opts.conn, cutoff, batch);
      total += n;
      if (n > 0) opts.onDeleted?.(n);
      if (n < batch) break;
      // Let intake and the sender in between batches.
      await new Promise((r) => setImmediate(r));
    }
    await deleteOrphanReports(opts.conn, cutoff);
    await deleteIdleFlows(opts.conn, opts.clock.now() - 86_400_000);
    if (total)
      log.info({ deleted: total, days: opts.days }, 'deleted message history past RETENTION_DAYS');
    return total;
  }

  const runner = makeSingletonLoop({
    conn: opts.conn,
    clock: opts.clock,
    logger: log,
    name: 'retention',
    holder: opts.holder,
    tickMs: opts.tickMs ?? 600_000,
    // A pass may be long the first time (a backlog of history): keep the lease meanwhile.
    leaseMs: 120_000,
    tick,
  });
  return { start: runner.start, stop: runner.stop, tick };
}

export type Retention = ReturnType<typeof makeRetention>;
