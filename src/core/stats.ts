import { minskDate, minskDayOf, minskDayStart } from '../domain/minskTime.js';
import type { QuietWindow } from '../domain/quietHours.js';
import { type Connection, deliveryStats, listPortals, type StatsGrouping } from '../store/index.js';
import { type Backlog, readBacklog } from './backlog.js';

export const STATS_GROUPINGS: readonly StatsGrouping[] = ['day', 'sender', 'type', 'campaign'];
const DAY_MS = 86_400_000;
/** Default range: the last 30 days, today included. */
const DEFAULT_DAYS = 30;

/** A row of SPEC §6 `stats --json`. */
export interface StatsReportRow {
  key: string;
  submitted: number;
  delivered: number;
  undelivered: number;
  failed: number;
  pending: number;
  /** delivered ÷ submitted, null when nothing was submitted. */
  delivery_rate: number | null;
}

/** SPEC §6 `stats --json`, plus `portal` and the current `backlog`. */
export interface StatsReport {
  from: string;
  to: string;
  by: StatsGrouping;
  rows: StatsReportRow[];
  portal?: string;
  backlog: Backlog;
}

/** Input a person got wrong (a date, a grouping, a portal): the CLI exits 2 with it. */
export class StatsUsageError extends Error {}

export interface StatsQuery {
  /** `YYYY-MM-DD` (Minsk), default 29 days before `to`. */
  from?: string | undefined;
  /** `YYYY-MM-DD` (Minsk), included; default today. */
  to?: string | undefined;
  /** Default `day`. */
  by?: string | undefined;
  /** member_id or domain; default every portal. */
  portal?: string | undefined;
}

/** The Minsk days `[from, to]` as epoch ms `[start, end)`, checked. */
export function statsRange(
  q: StatsQuery,
  now: number,
): { from: string; to: string; start: number; end: number } {
  const to = q.to ?? minskDate(now);
  const end = minskDayStart(to);
  if (end === undefined) throw new StatsUsageError(`--to: expected a date YYYY-MM-DD, got "${to}"`);
  const from = q.from ?? minskDate(end - (DEFAULT_DAYS - 1) * DAY_MS);
  const start = minskDayStart(from);
  if (start === undefined)
    throw new StatsUsageError(`--from: expected a date YYYY-MM-DD, got "${from}"`);
  if (start > end) throw new StatsUsageError(`--from ${from} is after --to ${to}`);
  return { from, to, start, end: end + DAY_MS };
}

/**
 * Delivery figures by day, sender, type or campaign for a range of Minsk days (one read of
 * that range, through the index on created_at), and the backlog as it is now.
 */
export async function readStats(
  deps: { conn: Connection; now: number; quietHours: QuietWindow | null; defaultRate?: number },
  q: StatsQuery,
): Promise<StatsReport> {
  const by = (q.by ?? 'day') as StatsGrouping;
  if (!STATS_GROUPINGS.includes(by))
    throw new StatsUsageError(`--by: one of ${STATS_GROUPINGS.join(', ')}, got "${q.by}"`);
  const range = statsRange(q, deps.now);
  let portalId: string | undefined;
  if (q.portal !== undefined) {
    const p = (await listPortals(deps.conn)).find(
      (x) => x.id === q.portal || x.domain === q.portal,
    );
    if (!p)
      throw new StatsUsageError(
        `--portal: no installed portal "${q.portal}" (member_id or domain)`,
      );
    portalId = p.id;
  }
  const rows = await deliveryStats(deps.conn, { from: range.start, to: range.end, by, portalId });
  return {
    from: range.from,
    to: range.to,
    by,
    ...(portalId !== undefined ? { portal: portalId } : {}),
    rows: rows.map((r) => {
      const pending = r.total - r.delivered - r.undelivered - r.failed;
      return {
        key: typeof r.key === 'number' ? minskDayOf(r.key) : r.key === '' ? '(none)' : r.key,
        submitted: r.submitted,
        delivered: r.delivered,
        undelivered: r.undelivered,
        failed: r.failed,
        pending,
        delivery_rate:
          r.submitted > 0 ? Math.round((r.delivered / r.submitted) * 10_000) / 10_000 : null,
      };
    }),
    backlog: await readBacklog(deps),
  };
}
