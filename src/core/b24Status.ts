import type { Message, MessagePatch } from '../store/index.js';

const RANK: Record<string, number> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
};

/**
 * The columns that make `status` the Bitrix24 status to push for `m`. Never a regression
 * (sent after delivered), and a status already pending keeps its place in the push queue.
 * A campaign message bound to a CRM record (its campaign logs to the timeline) has no
 * Bitrix24 message to update: its final status goes out once, as a timeline log entry.
 */
export function b24StatusPatch(
  m: Pick<
    Message,
    'b24_message_id' | 'b24_status' | 'push_pending' | 'push_run_at' | 'campaign_id' | 'bindings'
  >,
  status: string,
  now: number,
): MessagePatch {
  if (status === m.b24_status || (RANK[status] ?? 0) < (RANK[m.b24_status] ?? 0)) return {};
  if (!m.b24_message_id) {
    const logged = m.campaign_id !== null && m.bindings !== null && (RANK[status] ?? 0) === 2;
    return logged
      ? { b24_status: status, push_pending: 1, push_run_at: now }
      : { b24_status: status };
  }
  return { b24_status: status, push_pending: 1, push_run_at: m.push_pending ? m.push_run_at : now };
}
