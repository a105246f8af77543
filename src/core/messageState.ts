import {
  addEvent,
  type Connection,
  finishClaim,
  type Message,
  type MessageEventKind,
  type MessageState,
} from '../store/index.js';
import { b24StatusPatch } from './b24Status.js';

/**
 * The message state machine: every state, every allowed move, and what each move writes.
 * Workers call these functions; they do not write `state` themselves.
 *
 * | move      | from                                  | to                          | writes                                              |
 * |-----------|---------------------------------------|-----------------------------|-----------------------------------------------------|
 * | intake    | (new)                                 | queued, failed              | the row; failed: reason, Bitrix24 `failed`          |
 * | claim     | queued                                | sending                     | locked_by/at, attempts+1 (store/claims.ts)          |
 * | accept    | sending                               | ACCEPTD                     | mts_message_id, accepted_at, first poll, `sent`     |
 * | requeue   | sending                               | queued                      | run_at, last_error, unsure, attempted_at            |
 * | hold      | sending, queued                       | held                        | hold_reason (alpha name refused; store/contracts)   |
 * | release   | held                                  | queued                      | hold_reason cleared (store/contracts.ts)            |
 * | fail      | sending                               | failed                      | fail_reason, final_at, Bitrix24 `failed`            |
 * | sweep     | sending (owner gone)                  | queued                      | unsure=1, attempted_at (store/outbox releaseStale)  |
 * | withdraw  | queued, never attempted (campaign)    | (deleted)                   | recipient pending/cancelled (store/campaigns.ts)    |
 * | report    | queued, held, sending, ACCEPTD, UNKNOWN | ACCEPTD…REJECTD, UNKNOWN  | raw MTS triple, Bitrix24 status (core/applyReport)  |
 *
 * Final states (DELIVRD, EXPIRED, UNDELIV, REJECTD, failed) never change again. The moves
 * below each write only from the state the table names (finishClaim requires `sending`), and
 * each records itself in the message's history (`message_events`) in the same transaction.
 */
export interface MessageStates {
  /** MTS returned a message_id. False when a report had already moved the message on. */
  accept(m: Message, mtsMessageId: string, now: number): Promise<boolean>;
  /** Back to the queue after a failed or abandoned attempt. */
  requeue(
    m: Message,
    r: { runAt: number; error: string; unsure: boolean; attemptedAt?: number | null },
    now: number,
  ): Promise<boolean>;
  /** Refused for good; Bitrix24 is told `failed` with the reason. */
  fail(m: Message, reason: string, lastError: string | null, now: number): Promise<boolean>;
  /** Waits with its alpha name's hold. */
  hold(m: Message, reason: string, now: number): Promise<boolean>;
}

/** The moves a claim holder (the sender, as `workerId`) makes on its claimed messages. */
export function makeMessageStates(deps: {
  conn: Connection;
  workerId: string;
  /** Seconds after acceptance before the first status poll (MTS_POLL_AFTER). */
  pollAfterSec: number;
  /** Every completed move (metrics). */
  onMove?: (move: string, to: MessageState) => void;
  /** Runs the write in a (shared) transaction; default: on `conn` directly. */
  commit?: <T>(fn: (conn: Connection) => Promise<T>) => Promise<T>;
}): MessageStates {
  const commit = deps.commit ?? (<T>(fn: (conn: Connection) => Promise<T>) => fn(deps.conn));
  const finish = async (
    m: Message,
    move: MessageEventKind,
    to: MessageState,
    patch: Parameters<typeof finishClaim>[3],
    now: number,
    detail: Record<string, unknown>,
  ) => {
    const ok = await commit(async (conn) => {
      if (!(await finishClaim(conn, m.id, deps.workerId, { ...patch, state: to }, now)))
        return false;
      await addEvent(conn, {
        messageId: m.id,
        kind: move,
        at: now,
        detail: { attempt: m.attempts, ...detail },
      });
      return true;
    });
    if (ok) deps.onMove?.(move, to);
    return ok;
  };
  return {
    accept: (m, mtsMessageId, now) =>
      finish(
        m,
        'accept',
        'ACCEPTD',
        {
          mts_message_id: mtsMessageId,
          accepted_at: now,
          unsure: 0,
          last_error: null,
          hold_reason: null,
          next_poll_at: now + deps.pollAfterSec * 1000,
          ...b24StatusPatch(m, 'sent', now),
        },
        now,
        { mtsMessageId },
      ),
    requeue: (m, r, now) =>
      finish(
        m,
        'requeue',
        'queued',
        {
          run_at: r.runAt,
          last_error: r.error,
          unsure: r.unsure ? 1 : 0,
          ...(r.attemptedAt !== undefined ? { attempted_at: r.attemptedAt } : {}),
        },
        now,
        { error: r.error, unsure: r.unsure, runAt: r.runAt },
      ),
    fail: (m, reason, lastError, now) =>
      finish(
        m,
        'fail',
        'failed',
        {
          fail_reason: reason,
          last_error: lastError,
          final_at: now,
          unsure: 0,
          ...b24StatusPatch(m, 'failed', now),
        },
        now,
        { reason, error: lastError },
      ),
    hold: (m, reason, now) =>
      finish(m, 'hold', 'held', { hold_reason: reason, unsure: 0 }, now, { reason }),
  };
}
