import { minskDate, minskDayNumber, minskDayOf, minskDayStart } from '../domain/minskTime.js';
import type { QuietWindow } from '../domain/quietHours.js';
import { InputError } from '../errors.js';
import {
  type Connection,
  groupCells,
  listPortals,
  type StatsGrouping,
  type StatsRow,
  statsCells,
} from '../store/index.js';
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
export class StatsUsageError extends InputError {}

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
): { from: string; to: string; start: number; end: number; fromDay: number; toDay: number } {
  const to = q.to ?? minskDate(now);
  const end = minskDayStart(to);
  if (end === undefined) throw new StatsUsageError(`--to: expected a date YYYY-MM-DD, got "${to}"`);
  const from = q.from ?? minskDate(end - (DEFAULT_DAYS - 1) * DAY_MS);
  const start = minskDayStart(from);
  if (start === undefined)
    throw new StatsUsageError(`--from: expected a date YYYY-MM-DD, got "${from}"`);
  if (start > end) throw new StatsUsageError(`--from ${from} is after --to ${to}`);
  return {
    from,
    to,
    start,
    end: end + DAY_MS,
    fromDay: minskDayNumber(start),
    toDay: minskDayNumber(end),
  };
}

export type StatsDeps = {
  conn: Connection;
  now: number;
  quietHours: QuietWindow | null;
  defaultRate?: number;
};

/** The portal a person named (member_id or domain), checked. */
async function portalOf(conn: Connection, portal: string | undefined): Promise<string | undefined> {
  if (portal === undefined) return undefined;
  const p = (await listPortals(conn)).find((x) => x.id === portal || x.domain === portal);
  if (!p)
    throw new StatsUsageError(`--portal: no installed portal "${portal}" (member_id or domain)`);
  return p.id;
}

/** A group's counts as SPEC §6 reports them: pending and the delivery rate derived. */
function reportRow(r: StatsRow): StatsReportRow {
  return {
    key: typeof r.key === 'number' ? minskDayOf(r.key) : r.key === '' ? '(none)' : r.key,
    submitted: r.submitted,
    delivered: r.delivered,
    undelivered: r.undelivered,
    failed: r.failed,
    pending: r.total - r.delivered - r.undelivered - r.failed,
    delivery_rate:
      r.submitted > 0 ? Math.round((r.delivered / r.submitted) * 10_000) / 10_000 : null,
  };
}

/**
 * Delivery figures by day, sender, type or campaign for a range of Minsk days (from the
 * pre-aggregated daily figures, store/stats.ts), and the backlog as it is now.
 */
export async function readStats(deps: StatsDeps, q: StatsQuery): Promise<StatsReport> {
  const by = (q.by ?? 'day') as StatsGrouping;
  if (!STATS_GROUPINGS.includes(by))
    throw new StatsUsageError(`--by: one of ${STATS_GROUPINGS.join(', ')}, got "${q.by}"`);
  const range = statsRange(q, deps.now);
  const portalId = await portalOf(deps.conn, q.portal);
  const cells = await statsCells(deps.conn, { ...range, portalId });
  return {
    from: range.from,
    to: range.to,
    by,
    ...(portalId !== undefined ? { portal: portalId } : {}),
    rows: groupCells(cells, by).map(reportRow),
    backlog: await readBacklog(deps),
  };
}

/** Totals of a range, SPEC §6 figures without a key. */
export type StatsTotals = Omit<StatsReportRow, 'key'> & { total: number };

/** What the admin overview shows: today, the last 30 days and their breakdowns, the backlog. */
export interface Overview {
  today: StatsTotals & { date: string };
  last30: StatsTotals & { from: string; to: string };
  /** Every day of the 30, oldest first, zeros included (a chart's x axis). */
  byDay: StatsReportRow[];
  bySender: StatsReportRow[];
  byType: StatsReportRow[];
  backlog: Backlog;
}

function totals(rows: StatsRow[]): StatsTotals {
  const sum: StatsRow = {
    key: '',
    total: 0,
    submitted: 0,
    delivered: 0,
    undelivered: 0,
    failed: 0,
  };
  for (const r of rows)
    for (const n of ['total', 'submitted', 'delivered', 'undelivered', 'failed'] as const)
      sum[n] += r[n];
  const { key: _key, ...rest } = reportRow(sum);
  return { total: sum.total, ...rest };
}

/**
 * The overview's figures in one read of the daily figures (30 days × senders × types cells,
 * whatever the number of messages), optionally of one portal, and the backlog.
 */
export async function readOverview(
  deps: StatsDeps,
  q: { portal?: string | undefined } = {},
): Promise<Overview> {
  const range = statsRange({}, deps.now);
  const portalId = await portalOf(deps.conn, q.portal);
  const cells = await statsCells(deps.conn, { ...range, portalId });
  const days = new Map(groupCells(cells, 'day').map((r) => [r.key, r]));
  const byDay: StatsRow[] = [];
  for (let d = range.fromDay; d <= range.toDay; d++)
    byDay.push(
      days.get(d) ?? { key: d, total: 0, submitted: 0, delivered: 0, undelivered: 0, failed: 0 },
    );
  const today = byDay[byDay.length - 1] as StatsRow;
  return {
    today: { date: range.to, ...totals([today]) },
    last30: { from: range.from, to: range.to, ...totals(byDay) },
    byDay: byDay.map(reportRow),
    bySender: groupCells(cells, 'sender').map(reportRow),
    byType: groupCells(cells, 'type').map(reportRow),
    backlog: await readBacklog(deps),
  };
}
