import { randomUUID } from 'node:crypto';
import type { Selectable, Updateable } from 'kysely';
import type { Connection } from './dialects/types.js';
import type { MessageState, MessagesTable } from './schema.js';

export type Message = Selectable<MessagesTable>;

export interface NewMessage {
  portalId: string | null;
  b24MessageId: string | null;
  source: string;
  kind: 'transactional' | 'marketing';
  phoneRaw: string;
  /** Normalized phone; null when refused. */
  phone: string | null;
  text: string;
  alphaName: string;
  bindings?: unknown[] | null;
  /** Earliest send time (scheduled sends, quiet hours); default now. */
  sendAt?: number;
  /** Set when we refuse the message at intake: it is stored as `failed`, never sent. */
  failReason?: string | null;
}

/**
 * Commits one message. Idempotent on (portal, Bitrix24 message_id): the second POST of the
 * same message returns the first row and `created: false`.
 */
export async function insertMessage(
  conn: Connection,
  m: NewMessage,
  now: number,
): Promise<{ message: Message; created: boolean }> {
  const failed = Boolean(m.failReason);
  const id = randomUUID();
  const inserted = await conn.db
    .insertInto('messages')
    .values({
      id,
      portal_id: m.portalId,
      b24_message_id: m.b24MessageId,
      source: m.source,
      kind: m.kind,
      phone_raw: m.phoneRaw,
      phone: m.phone,
      text: m.text,
      alpha_name: m.alphaName,
      bindings: m.bindings?.length ? JSON.stringify(m.bindings) : null,
      state: failed ? 'failed' : 'queued',
      fail_reason: m.failReason ?? null,
      attempts: 0,
      run_at: Math.max(now, m.sendAt ?? now),
      due_at: Math.max(now, m.sendAt ?? now),
      unsure: 0,
      polls: 0,
      b24_status: failed ? 'failed' : 'queued',
      // Only Bitrix24-originated messages have a status to push.
      push_pending: failed && m.b24MessageId ? 1 : 0,
      push_attempts: 0,
      push_run_at: now,
      final_at: failed ? now : null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['portal_id', 'b24_message_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { message: inserted, created: true };
  const existing = await conn.db
    .selectFrom('messages')
    .selectAll()
    .where('portal_id', '=', m.portalId)
    .where('b24_message_id', '=', m.b24MessageId)
    .executeTakeFirstOrThrow();
  return { message: existing, created: false };
}

export function getMessage(conn: Connection, id: string): Promise<Message | undefined> {
  return conn.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

export function getMessageByB24Id(
  conn: Connection,
  portalId: string,
  b24MessageId: string,
): Promise<Message | undefined> {
  return conn.db
    .selectFrom('messages')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('b24_message_id', '=', b24MessageId)
    .executeTakeFirst();
}

/**
 * Claims up to `limit` due messages for `workerId` and marks them `sending`.
 * On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances claim disjoint rows without
 * waiting on each other; SQLite serializes writers, so the plain subquery is already safe.
 */
export async function claimDue(
  conn: Connection,
  workerId: string,
  now: number,
  limit: number,
): Promise<Message[]> {
  return conn.db.transaction().execute(async (trx) => {
    let due = trx
      .selectFrom('messages')
      .select('id')
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .orderBy('run_at')
      .orderBy('created_at')
      .limit(limit);
    if (conn.caps.skipLocked) due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    const rows = await trx
      .updateTable('messages')
      .set((eb) => ({
        state: 'sending',
        locked_by: workerId,
        locked_at: now,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('state', '=', 'queued')
      .returningAll()
      .execute();
    // Keep claim order (FIFO) — RETURNING order is unspecified.
    const order = new Map(ids.map((id, i) => [id, i]));
    return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  });
}

/** Records what a claimed message became; a no-op when the claim was lost (lock swept). */
export async function finishClaim(
  conn: Connection,
  id: string,
  workerId: string,
  patch: Updateable<MessagesTable>,
  now: number,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('messages')
    .set({ ...patch, locked_by: null, locked_at: null, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Renews a claim right before the request goes out; false when the claim was swept and the
 * message now belongs to someone else (who will look it up before sending).
 */
export async function touchClaim(
  conn: Connection,
  id: string,
  workerId: string,
  now: number,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('messages')
    .set({ locked_at: now })
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Returns `sending` messages locked before `lockedBefore` to the queue, flagged `unsure`:
 * the crashed or stuck attempt may have reached MTS, so the next attempt looks the
 * message up by extra_id before sending it again.
 */
export async function releaseStale(
  conn: Connection,
  lockedBefore: number,
  now: number,
  /**
   * Also release claims older than this whose worker holds no live `sender:` lease — a worker
   * that crashed — without waiting for `lockedBefore`.
   */
  orphanedBefore?: number,
): Promise<number> {
  const r = await conn.db
    .updateTable('messages')
    .set({
      state: 'queued',
      unsure: 1,
      locked_by: null,
      locked_at: null,
      run_at: now,
      updated_at: now,
    })
    .where('state', '=', 'sending')
    .where((eb) =>
      orphanedBefore === undefined
        ? eb('locked_at', '<', lockedBefore)
        : eb.or([
            eb('locked_at', '<', lockedBefore),
            eb.and([
              eb('locked_at', '<', orphanedBefore),
              eb(
                'locked_by',
                'not in',
                eb
                  .selectFrom('leases')
                  .select('holder')
                  .where('name', 'like', 'sender:%')
                  .where('expires_at', '>=', now),
              ),
            ]),
          ]),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Optimistic state transition: applies `patch` only if the message is still in `from`. */
export async function transition(
  conn: Connection,
  id: string,
  from: MessageState,
  patch: Updateable<MessagesTable>,
  now: number,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('messages')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Due queued messages and the age of the oldest one (metrics, readiness, poll priority). */
export async function queueDepth(
  conn: Connection,
  now: number,
): Promise<{ due: number; queued: number; oldestQueuedAt: number | null }> {
  const row = await conn.db
    .selectFrom('messages')
    .select((eb) => [
      eb.fn.countAll<number>().as('queued'),
      eb.fn.sum<number>(eb.case().when('run_at', '<=', now).then(1).else(0).end()).as('due'),
      eb.fn.min<number>('created_at').as('oldest'),
    ])
    .where('state', 'in', ['queued', 'sending'])
    .executeTakeFirstOrThrow();
  return {
    due: Number(row.due ?? 0),
    queued: Number(row.queued),
    oldestQueuedAt: row.oldest == null ? null : Number(row.oldest),
  };
}

export async function countByState(conn: Connection): Promise<Record<string, number>> {
  const rows = await conn.db
    .selectFrom('messages')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
