import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/** How `deliveryStats` groups: Minsk day, alpha name, message type, campaign. */
export type StatsGrouping = 'day' | 'sender' | 'type' | 'campaign';

/** One group's counts; the Bitrix24 status decides delivered / undelivered / failed / pending. */
export interface StatsRow {
  /** Minsk day number (days since 1970-01-01) for `day`, else the alpha name, type or campaign id ('' for none). */
  key: string | number;
  /** Every message created in the range. */
  total: number;
  /** Accepted by MTS (it has an acceptance time). */
  submitted: number;
  delivered: number;
  undelivered: number;
  failed: number;
}

/** Europe/Minsk is UTC+3 all year (domain/minskTime.ts): a day is plain arithmetic. */
const MINSK_OFFSET_MS = 3 * 3_600_000;

/**
 * The message type of SPEC §6 from how intake stored it: a campaign's messages carry its id;
 * handler POSTs keep Bitrix24's module_id as `source` (crm = a CRM card, bizproc = a
 * workflow's SMS, sender = CRM marketing), our robot's are `robot`, the CLI's `send` is `cli`
 * (a test). Anything else goes by kind.
 */
const TYPE = `case when campaign_id is not null then 'campaign'
  when source = 'crm' then 'card'
  when source in ('bizproc', 'robot') then 'robot'
  when source = 'sender' then 'marketing'
  when source = 'cli' then 'test'
  when kind = 'marketing' then 'marketing'
  else 'card' end`;

/** Constant SQL (no parameters), so the SELECT and GROUP BY texts are the same expression. */
const KEYS: Record<StatsGrouping, string> = {
  day: `(created_at + ${MINSK_OFFSET_MS}) / 86400000`,
  sender: 'alpha_name',
  type: TYPE,
  campaign: `coalesce(campaign_id, '')`,
};

/**
 * Delivery figures of the messages created in `[from, to)` (epoch ms), grouped by `by`,
 * optionally of one portal. Reads that range through the `messages_created` index: run on
 * demand (the `stats` command, the admin API), never in a loop.
 */
export async function deliveryStats(conn: Connection, q: StatsQuery): Promise<StatsRow[]> {
  const rows = await deliveryStatsQuery(conn, q).execute();
  return rows.map((r) => ({
    key: q.by === 'day' ? Number(r.key) : String(r.key),
    total: Number(r.total),
    submitted: Number(r.submitted ?? 0),
    delivered: Number(r.delivered ?? 0),
    undelivered: Number(r.undelivered ?? 0),
    failed: Number(r.failed ?? 0),
  }));
}

export interface StatsQuery {
  from: number;
  to: number;
  by: StatsGrouping;
  portalId?: string | undefined;
}

/** The query of deliveryStats, built but not run (the store test explains it). */
export function deliveryStatsQuery(conn: Connection, q: StatsQuery) {
  const count = (cond: string) => sql<number>`sum(case when ${sql.raw(cond)} then 1 else 0 end)`;
  let query = conn.db
    .selectFrom('messages')
    .select((eb) => [
      sql<string | number>`${sql.raw(KEYS[q.by])}`.as('key'),
      eb.fn.countAll<number>().as('total'),
      count('accepted_at is not null').as('submitted'),
      count(`b24_status = 'delivered'`).as('delivered'),
      count(`b24_status = 'undelivered'`).as('undelivered'),
      count(`b24_status = 'failed'`).as('failed'),
    ])
    .where('created_at', '>=', q.from)
    .where('created_at', '<', q.to)
    .groupBy(sql.raw('1'))
    .orderBy(sql.raw('1'));
  if (q.portalId !== undefined) query = query.where('portal_id', '=', q.portalId);
  return query;
}
