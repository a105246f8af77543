import type { Connection } from './dialects/types.js';
import type { MessageState } from './schema.js';

/** The columns the admin API shows of a message (no text, no locks). */
const LISTED = [
  'id',
  'portal_id',
  'b24_message_id',
  'source',
  'kind',
  'phone',
  'phone_raw',
  'alpha_name',
  'state',
  'fail_reason',
  'last_error',
  'attempts',
  'mts_message_id',
  'b24_status',
  'b24_pushed_status',
  'created_at',
  'final_at',
] as const;

/** The newest `limit` messages, optionally of one state (admin API). */
export function recentMessages(
  conn: Connection,
  opts: { limit: number; state?: MessageState | undefined },
) {
  let q = conn.db
    .selectFrom('messages')
    .select(LISTED)
    .orderBy('created_at', 'desc')
    .limit(opts.limit);
  if (opts.state) q = q.where('state', '=', opts.state);
  return q.execute();
}

export type ListedMessage = Awaited<ReturnType<typeof recentMessages>>[number];
