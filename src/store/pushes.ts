import type { Connection } from './dialects/types.js';

export interface PendingPush {
  id: string;
  portal_id: string;
  /** Null for a campaign message: its final status is logged on the CRM record instead. */
  b24_message_id: string | null;
  /** The provider CODE its status goes back under; null: the default one. */
  provider_code: string | null;
  campaign_id: string | null;
  phone: string | null;
  text: string;
  b24_status: string;
  state: string;
  fail_reason: string | null;
  bindings: string | null;
  push_attempts: number;
  push_run_at: number;
  timeline_noted: number;
  mts_status: string | null;
  mts_substatus: number | null;
  mts_hyber_status: number | null;
}

/** Portals with a status due to be pushed (read from the partial index of pending pushes). */
export async function portalsWithPushes(conn: Connection, now: number): Promise<string[]> {
  const rows = await conn.db
    .selectFrom('messages')
    .select('portal_id')
    .distinct()
    .where('push_pending', '=', 1)
    .where('push_run_at', '<=', now)
    .where('portal_id', 'is not', null)
    .execute();
  return rows.map((r) => r.portal_id as string);
}

/**
 * Statuses waiting to reach Bitrix24, oldest first: of one portal when `portalId` is given
 * (the pusher fetches per portal, so one portal's backlog never starves another's).
 */
export async function pendingPushes(
  conn: Connection,
  now: number,
  limit: number,
  portalId?: string,
): Promise<PendingPush[]> {
  const rows = await conn.db
    .selectFrom('messages')
    .select([
      'id',
      'portal_id',
      'b24_message_id',
      'provider_code',
      'campaign_id',
      'phone',
      'text',
      'b24_status',
      'state',
      'fail_reason',
      'bindings',
      'push_attempts',
      'push_run_at',
      'timeline_noted',
      'mts_status',
      'mts_substatus',
      'mts_hyber_status',
    ])
    .where('push_pending', '=', 1)
    .where('push_run_at', '<=', now)
    .where('portal_id', 'is not', null)
    .$if(portalId !== undefined, (q) => q.where('portal_id', '=', portalId as string))
    .orderBy('push_run_at')
    .limit(limit)
    .execute();
  return rows as PendingPush[];
}

/**
 * Records the statuses a batch answer confirmed: one statement per status, not one per
 * message. A row is cleared only if its status is still the one pushed (a newer one stays
 * pending).
 */
export async function markPushedMany(
  conn: Connection,
  pushed: readonly { id: string; status: string }[],
  now: number,
): Promise<void> {
  const byStatus = new Map<string, string[]>();
  for (const p of pushed) {
    const ids = byStatus.get(p.status);
    if (ids) ids.push(p.id);
    else byStatus.set(p.status, [p.id]);
  }
  for (const [status, ids] of byStatus)
    for (let i = 0; i < ids.length; i += 500)
      await conn.db
        .updateTable('messages')
        .set({
          push_pending: 0,
          b24_pushed_status: status,
          push_error: null,
          push_attempts: 0,
          updated_at: now,
        })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('b24_status', '=', status)
        .execute();
}

export async function retryPush(
  conn: Connection,
  id: string,
  runAt: number,
  error: string,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('messages')
    .set((eb) => ({
      push_attempts: eb('push_attempts', '+', 1),
      push_run_at: runAt,
      push_error: error,
      updated_at: now,
    }))
    .where('id', '=', id)
    .execute();
}

/** Gives up on one push (e.g. Bitrix24 no longer knows the message); the error is kept. */
export async function dropPush(
  conn: Connection,
  id: string,
  error: string,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('messages')
    .set({ push_pending: 0, push_error: error, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function markTimelineNoted(conn: Connection, id: string): Promise<void> {
  await conn.db.updateTable('messages').set({ timeline_noted: 1 }).where('id', '=', id).execute();
}

/**
 * The provider CODEs (other than the default) of a portal's messages whose status has still
 * to reach Bitrix24 — not final yet, or final and not pushed: a provider must outlive them.
 * Read when a portal registers (rare): not on any hot path.
 */
export async function providerCodesInUse(conn: Connection, portalId: string): Promise<string[]> {
  const rows = await conn.db
    .selectFrom('messages')
    .select('provider_code')
    .distinct()
    .where('portal_id', '=', portalId)
    .where('provider_code', 'is not', null)
    .where((eb) => eb.or([eb('push_pending', '=', 1), eb('final_at', 'is', null)]))
    .execute();
  return rows.map((r) => r.provider_code as string);
}

/** Statuses of one portal still to reach Bitrix24 (`pushBacklog`). */
export interface PushBacklogRow {
  portal_id: string;
  /** Statuses waiting to be sent. */
  waiting: number;
  /** Of them, those Bitrix24 refused or did not answer at least once. */
  failing: number;
  /** When the earliest of them is due (epoch ms). */
  next_at: number | null;
  /** One of the errors Bitrix24 gave (or the network). */
  error: string | null;
}

/**
 * Statuses waiting for Bitrix24, per portal (one portal's when `portalId` is given), read
 * through the partial index of pending pushes: usually none, many only while a portal is
 * unreachable.
 */
export async function pushBacklog(conn: Connection, portalId?: string): Promise<PushBacklogRow[]> {
  let q = conn.db
    .selectFrom('messages')
    .select((eb) => [
      'portal_id',
      eb.fn.countAll<number | string>().as('waiting'),
      eb.fn
        .sum<number | string | null>(eb.case().when('push_attempts', '>', 0).then(1).else(0).end())
        .as('failing'),
      eb.fn.min('push_run_at').as('next_at'),
      eb.fn.max('push_error').as('error'),
    ])
    .where('push_pending', '=', 1)
    .where('portal_id', 'is not', null)
    .groupBy('portal_id');
  if (portalId !== undefined) q = q.where('portal_id', '=', portalId);
  const rows = await q.execute();
  return rows.map((r) => ({
    portal_id: r.portal_id as string,
    waiting: Number(r.waiting),
    failing: Number(r.failing ?? 0),
    next_at: r.next_at === null ? null : Number(r.next_at),
    error: r.error,
  }));
}
