import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import {
  isFinal,
  type MtsState,
  mergeState,
  stateFromReport,
  toBitrixStatus,
} from '../domain/status.js';
import type { MtsReport } from '../mts/types.js';
import {
  type Connection,
  findMessageForReport,
  getMessage,
  type Message,
  saveReport,
  transition,
} from '../store/index.js';
import { b24StatusPatch } from './b24Status.js';

export interface ApplyReportDeps {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  /** Seconds after acceptance before the first poll of a message with no final state. */
  pollAfterSec: number;
}

export type ApplyOutcome = 'changed' | 'unchanged' | 'unknown';

/**
 * Stores an MTS report and moves the message forward. States are monotonic: a final state is
 * never replaced, so duplicates and out-of-order reports change nothing and push nothing.
 * Optimistic: the transition applies only if the state is still the one we read, and is
 * retried on a concurrent change.
 */
export async function applyReport(
  deps: ApplyReportDeps,
  report: MtsReport,
  source: 'dlr' | 'poll' | 'lookup',
  /** A DLR arrives on one portal's callback key: it may only touch that portal's messages (or CLI ones). */
  portalId?: string,
): Promise<{ outcome: ApplyOutcome; message?: Message }> {
  const now = deps.clock.now();
  let message = await findMessageForReport(deps.conn, report.extraId, report.messageId);
  if (message && portalId && message.portal_id && message.portal_id !== portalId)
    message = undefined;
  await saveReport(
    deps.conn,
    {
      messageId: message?.id ?? null,
      mtsMessageId: report.messageId ?? null,
      source,
      body: report.raw,
    },
    now,
  );
  if (!message) return { outcome: 'unknown' };

  for (let attempt = 0; attempt < 5 && message; attempt++) {
    const incoming = stateFromReport(report);
    // A report while we still think the message is queued/sending proves MTS accepted it.
    if (message.state === 'failed') return { outcome: 'unchanged', message };
    const current =
      message.state === 'queued' || message.state === 'sending'
        ? null
        : (message.state as MtsState);
    const merged = current ? mergeState(current, incoming) : { state: incoming, changed: true };
    const sameRaw =
      String(report.status) === message.mts_status &&
      (report.deliveredParts ?? null) === message.delivered_parts;
    if (!merged.changed && sameRaw) return { outcome: 'unchanged', message };
    if (!merged.changed && current && isFinal(current)) return { outcome: 'unchanged', message };

    const state: MtsState = merged.state;
    const final = isFinal(state);
    const patch = {
      state,
      mts_message_id: message.mts_message_id ?? report.messageId ?? null,
      mts_status: String(report.status),
      mts_substatus: report.substatus ?? null,
      mts_hyber_status: report.msgStatus ?? null,
      total_parts: report.totalParts ?? message.total_parts,
      delivered_parts: report.deliveredParts ?? message.delivered_parts,
      accepted_at: message.accepted_at ?? now,
      final_at: final ? now : null,
      next_poll_at: final ? null : (message.next_poll_at ?? now + deps.pollAfterSec * 1000),
      locked_by: null,
      locked_at: null,
      unsure: 0,
      ...b24StatusPatch(message, toBitrixStatus(state), now),
    };
    const ok = await transition(deps.conn, message.id, message.state, patch, now);
    // The row is exactly what we read plus the patch: no second read.
    if (ok)
      return {
        outcome: merged.changed || !current ? 'changed' : 'unchanged',
        message: { ...message, ...patch, updated_at: now } as Message,
      };
    message = await getMessage(deps.conn, message.id);
  }
  deps.logger.warn(
    { messageId: message?.id },
    'report could not be applied after 5 concurrent changes',
  );
  return { outcome: 'unchanged', ...(message ? { message } : {}) };
}
