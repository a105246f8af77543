import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/** How `deliveryStats` groups: Minsk day, alpha name, message type, campaign. */
export type StatsGrouping = 'day' | 'sender' | 'type' | 'campaign';

/** The counters kept per key; the Bitrix24 status decides delivered / undelivered / failed. */
export interface StatsCounts {
  /** Every message created. */
  total: number;
  /** Accepted by MTS (it has an acceptance time). */
  submitted: number;
  delivered: number;
  undelivered: number;
  failed: number;
}

/** The counters of one Minsk day, alpha name, type and campaign ('' for none). */
export interface StatsCell extends StatsCounts {
  day: number;
  alphaName: string;
  type: string;
  campaignId: string;
}

/** One group's counts. */
export interface StatsRow extends StatsCounts {
  /** Minsk day number (days since 1970-01-01) for `day`, else the alpha name, type or campaign id ('' for none). */
  key: string | number;
}

export interface StatsQuery {
  /** First Minsk day number, included. */
  fromDay: number;
  /** Last Minsk day number, included. */
  toDay: number;
  portalId?: string | undefined;
}

const COUNTERS = ['total', 'submitted', 'delivered', 'undelivered', 'failed'] as const;
const KEY = ['day', 'portal_id', 'alpha_name', 'type', 'campaign_id'] as const;

/**
 * The counters of the Minsk days `[fromDay, toDay]`, one cell per day, alpha name, type and
 * campaign, optionally of one portal: the folded rows of `stats_days` (through its primary
 * key, whose first column is the day) plus the deltas not folded yet (migrations/0010_stats.ts).
 * Its cost follows the number of days, senders and types, not the number of messages.
 */
export async function statsCells(conn: Connection, q: StatsQuery): Promise<StatsCell[]> {
  const rows = await statsCellsQuery(conn, q).execute();
  return rows.map((r) => ({
    day: Number(r.day),
    alphaName: r.alpha_name,
    type: r.type,
    campaignId: r.campaign_id,
    total: Number(r.total),
    submitted: Number(r.submitted),
    delivered: Number(r.delivered),
    undelivered: Number(r.undelivered),
    failed: Number(r.failed),
  }));
}

/** The query of statsCells, built but not run (the store test explains it). */
export function statsCellsQuery(conn: Connection, q: StatsQuery) {
  const part = (table: 'stats_days' | 'stats_deltas') => {
    let s = conn.db
      .selectFrom(table)
      .select(['day', 'alpha_name', 'type', 'campaign_id', ...COUNTERS])
      .where('day', '>=', q.fromDay)
      .where('day', '<=', q.toDay);
    if (q.portalId !== undefined) s = s.where('portal_id', '=', q.portalId);
    return s;
  };
  return conn.db
    .selectFrom(part('stats_days').unionAll(part('stats_deltas')).as('s'))
    .select((eb) => [
      's.day',
      's.alpha_name',
      's.type',
      's.campaign_id',
      ...COUNTERS.map((c) => eb.fn.sum<number>(`s.${c}`).as(c)),
    ])
    .groupBy(['s.day', 's.alpha_name', 's.type', 's.campaign_id'])
    .orderBy('s.day');
}

/** Cells summed by one grouping, in key order. */
export function groupCells(cells: readonly StatsCell[], by: StatsGrouping): StatsRow[] {
  const keyOf = (c: StatsCell): string | number =>
    by === 'day' ? c.day : by === 'sender' ? c.alphaName : by === 'type' ? c.type : c.campaignId;
  const groups = new Map<string | number, StatsRow>();
  for (const c of cells) {
    const key = keyOf(c);
    let g = groups.get(key);
    if (!g) {
      g = { key, total: 0, submitted: 0, delivered: 0, undelivered: 0, failed: 0 };
      groups.set(key, g);
    }
    for (const n of COUNTERS) g[n] += c[n];
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Delivery figures of the Minsk days `[fromDay, toDay]` grouped by `by`. */
export async function deliveryStats(
  conn: Connection,
  q: StatsQuery & { by: StatsGrouping },
): Promise<StatsRow[]> {
  return groupCells(await statsCells(conn, q), q.by);
}

/**
 * Folds up to `batch` of the oldest deltas into `stats_days` in one transaction and returns
 * how many it folded. The deltas are deleted with RETURNING — one statement, so on PostgreSQL
 * a delta committed meanwhile is either folded now or left for the next pass, never lost —
 * then added per key in key order (the same lock order in every pass).
 */
export async function foldStatsDeltas(conn: Connection, batch = 5_000): Promise<number> {
  return conn.db.transaction().execute(async (trx) => {
    const moved = await trx
      .deleteFrom('stats_deltas')
      .where('id', 'in', (eb) =>
        eb.selectFrom('stats_deltas').select('id').orderBy('id').limit(batch),
      )
      .returning([...KEY, ...COUNTERS])
      .execute();
    const sums = new Map<string, (typeof moved)[number]>();
    for (const d of moved) {
      const k = JSON.stringify(KEY.map((c) => d[c]));
      const s = sums.get(k);
      if (!s) sums.set(k, { ...d });
      else for (const n of COUNTERS) s[n] = Number(s[n]) + Number(d[n]);
    }
    const rows = [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto('stats_days')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) =>
          oc
            .columns([...KEY])
            .doUpdateSet(
              Object.fromEntries(
                COUNTERS.map((n) => [
                  n,
                  sql<number>`stats_days.${sql.ref(n)} + excluded.${sql.ref(n)}`,
                ]),
              ),
            ),
        )
        .execute();
    return moved.length;
  });
}
