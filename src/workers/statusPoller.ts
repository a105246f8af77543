import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { applyReport } from '../core/applyReport.js';
import { coerceError } from '../errors.js';
import type { MtsClient, MtsReport } from '../mts/types.js';
import { type Connection, duePolls, hasDueWork, schedulePoll } from '../store/index.js';
import { makeSingletonLoop } from './singletonLoop.js';

export interface StatusPollerOptions {
  conn: Connection;
  /**
   * Waits for a rate slot of the message's contract (polls and sends share its rate) and
   * returns that contract's client; null when stopping.
   */
  slot: (contractId: string, signal: AbortSignal) => Promise<MtsClient | null>;
  clock: Clock;
  logger: Logger;
  /** MTS_POLL_AFTER: seconds after acceptance before the first poll. */
  pollAfterSec: number;
  /** MTS_POLL_INTERVAL: seconds between polls of one message. */
  intervalSec: number;
  /** MTS_SMS_TTL + MTS_EXPIRE_GRACE: after this long without a final state a message is EXPIRED. */
  ttlSec: number;
  graceSec: number;
  holder: string;
  /** Tick between scans (default 1000 ms). */
  tickMs?: number;
  onPoll?: (outcome: 'changed' | 'unchanged' | 'not_found' | 'error' | 'expired') => void;
}

/**
 * Polling insurance for lost delivery reports. Runs in one instance at a time (lease) and
 * yields to sending: while messages are due to be sent it does not take rate-limit slots.
 */
export function makeStatusPoller(opts: StatusPollerOptions) {
  const log = opts.logger.child({ worker: 'status-poller' });
  const tickMs = opts.tickMs ?? 1000;
  const deps = { conn: opts.conn, clock: opts.clock, logger: log, pollAfterSec: opts.pollAfterSec };

  async function expire(id: string, mtsMessageId: string | null): Promise<void> {
    const report: MtsReport = {
      messageId: mtsMessageId ?? '',
      extraId: id,
      status: 'EXPIRED',
      raw: {
        synthetic: true,
        reason: `no final state ${opts.ttlSec + opts.graceSec} s after acceptance (MTS_SMS_TTL + MTS_EXPIRE_GRACE)`,
      },
    };
    await applyReport(deps, report, 'poll');
    opts.onPoll?.('expired');
  }

  /** One pass over due polls; returns how many messages were looked at. */
  async function tick(signal: AbortSignal = new AbortController().signal): Promise<number> {
    const now = opts.clock.now();
    const due = await duePolls(opts.conn, now, 50);
    // Sends first: a contract with messages due to go gets no polls this pass (one index probe).
    const busy = new Map<string, boolean>();
    for (const m of due) {
      if (signal.aborted) break;
      if (m.accepted_at !== null && now - m.accepted_at > (opts.ttlSec + opts.graceSec) * 1000) {
        log.info(
          { messageId: m.id },
          'no final state after the SMS validity period: marking EXPIRED',
        );
        await expire(m.id, m.mts_message_id);
        continue;
      }
      if (!m.mts_message_id) {
        await schedulePoll(opts.conn, m.id, now + opts.intervalSec * 1000, now);
        continue;
      }
      if (!busy.has(m.contract_id))
        busy.set(m.contract_id, await hasDueWork(opts.conn, m.contract_id, now));
      if (busy.get(m.contract_id)) continue;
      const mts = await opts.slot(m.contract_id, signal);
      if (!mts) break;
      try {
        const report = await mts.statusByMessageId(m.mts_message_id);
        const t = opts.clock.now();
        if (!report) {
          log.warn(
            { messageId: m.id, mtsMessageId: m.mts_message_id },
            'MTS does not know this message_id (404)',
          );
          opts.onPoll?.('not_found');
        } else {
          const { outcome } = await applyReport(deps, report, 'poll');
          opts.onPoll?.(outcome === 'changed' ? 'changed' : 'unchanged');
        }
        await schedulePoll(opts.conn, m.id, t + opts.intervalSec * 1000, t);
      } catch (err) {
        const e = coerceError(err);
        log.warn({ messageId: m.id, err: e.message }, 'status query failed; will poll again');
        opts.onPoll?.('error');
        const t = opts.clock.now();
        await schedulePoll(opts.conn, m.id, t + opts.intervalSec * 1000, t);
      }
    }
    return due.length;
  }

  const runner = makeSingletonLoop({
    conn: opts.conn,
    clock: opts.clock,
    logger: log,
    name: 'status-poller',
    holder: opts.holder,
    tickMs,
    tick,
  });

  return {
    start: runner.start,
    tick,
    stop: runner.stop,
  };
}

export type StatusPoller = ReturnType<typeof makeStatusPoller>;
