import { sql } from 'kysely';
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
  'campaign_id',
  'created_at',
  'final_at',
] as const;

/**
 * Messages matching every given filter, newest first (admin search). A number goes through the
 * (phone, created_at) index; without one, through the created_at index.
 */
export function searchMessages(conn: Connection, q: MessageSearchFilter) {
  return searchMessagesQuery(conn, q).execute();
}

export type ListedMessage = Awaited<ReturnType<typeof searchMessages>>[number];

export interface MessageSearchFilter {
  /** Normalized (`+375…`). */
  phone?: string | undefined;
  state?: MessageState | undefined;
  /** Epoch ms: `created_at` ≥ from, < to. */
  from?: number | undefined;
  to?: number | undefined;
  sender?: string | undefined;
  campaign?: string | undefined;
  /** One portal's messages only. */
  portalId?: string | undefined;
  /** Only messages to one of these numbers (normalized; a CRM card's). */
  phones?: readonly string[] | undefined;
  limit: number;
}

/** The query searchMessages runs (plan tests). */
export function searchMessagesQuery(conn: Connection, q: MessageSearchFilter) {
  let s = conn.db
    .selectFrom('messages')
    .select(LISTED)
    .orderBy('created_at', 'desc')
    .limit(q.limit);
  if (q.phone !== undefined) s = s.where('phone', '=', q.phone);
  if (q.state !== undefined) s = s.where('state', '=', q.state);
  if (q.from !== undefined) s = s.where('created_at', '>=', q.from);
  if (q.to !== undefined) s = s.where('created_at', '<', q.to);
  if (q.sender !== undefined) s = s.where('alpha_name', '=', q.sender);
  if (q.campaign !== undefined) s = s.where('campaign_id', '=', q.campaign);
  if (q.portalId !== undefined) s = s.where('portal_id', '=', q.portalId);
  if (q.phones !== undefined)
    s = q.phones.length ? s.where('phone', 'in', [...q.phones]) : s.where(sql<boolean>`1 = 0`);
  return s;
}
