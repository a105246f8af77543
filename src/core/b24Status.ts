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
 */
export function b24StatusPatch(
  m: Pick<Message, 'b24_message_id' | 'b24_status' | 'push_pending' | 'push_run_at'>,
  status: string,
  now: number,
): MessagePatch {
  if (status === m.b24_status || (RANK[status] ?? 0) < (RANK[m.b24_status] ?? 0)) return {};
  if (!m.b24_message_id) return { b24_status: status };
  return { b24_status: status, push_pending: 1, push_run_at: m.push_pending ? m.push_run_at : now };
}
