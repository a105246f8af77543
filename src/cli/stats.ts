import type { Command } from 'commander';
import { type Backlog, duration } from '../core/backlog.js';
import { readStats, STATS_GROUPINGS, type StatsReport, StatsUsageError } from '../core/stats.js';
import { parseQuietHours } from '../domain/quietHours.js';
import { connect, migrate } from '../store/index.js';
import { configOrExit, fail } from './common.js';

interface StatsOptions {
  portal?: string;
  from?: string;
  to?: string;
  by?: string;
  json?: boolean;
}

const COLUMNS = ['submitted', 'delivered', 'undelivered', 'failed', 'pending'] as const;

/** The rows as an aligned table: the key left, figures right. */
export function statsTable(r: StatsReport): string {
  const head = [r.by, ...COLUMNS, 'delivery rate'];
  const body = r.rows.map((row) => [
    row.key,
    ...COLUMNS.map((c) => String(row[c])),
    row.delivery_rate === null ? '—' : `${(row.delivery_rate * 100).toFixed(1)} %`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** The backlog in words: totals, each contract and lane with its ETA, then the reasons. */
export function backlogText(b: Backlog): string {
  if (b.waiting === 0) return 'Backlog: nothing waits.';
  const out = [
    `Backlog: ${b.waiting} message(s) waiting; the oldest since ${b.oldestCreatedAt} (${duration(b.oldestAgeSeconds ?? 0)} ago).`,
  ];
  for (const l of b.lanes) {
    const eta =
      l.etaSeconds !== null
        ? `all sent in about ${duration(l.etaSeconds)}`
        : l.etaUnblockedSeconds !== null
          ? `blocked in part; the rest sent in about ${duration(l.etaUnblockedSeconds)}`
          : 'blocked: no end in sight until the reason below is dealt with';
    out.push(`  ${l.contract}/${l.lane}: ${l.waiting} waiting, ${eta}`);
  }
  for (const line of b.lines) out.push(`  - ${line}`);
  return out.join('\n');
}

/**
 * `stats`: delivery figures by day, sender, type or campaign over a range of Minsk days, and
 * the backlog now. Bad dates, groupings or portals exit 2 with one line.
 */
export function statsCommand(program: Command): void {
  program
    .command('stats')
    .description(
      'Delivery figures (submitted to MTS, delivered, undelivered, failed, pending, delivery rate) by day, sender, type or campaign, and the backlog waiting now with its ETA and reasons',
    )
    .option('--portal <member_id or domain>', 'only this portal (default: every portal)')
    .option('--from <YYYY-MM-DD>', 'first day, Europe/Minsk (default: 29 days before --to)')
    .option('--to <YYYY-MM-DD>', 'last day, included, Europe/Minsk (default: today)')
    .option(
      '--by <grouping>',
      `${STATS_GROUPINGS.join(' | ')} (default: day); type is card, robot, marketing, campaign or test`,
    )
    .option(
      '--json',
      'one JSON document: {"from","to","by","rows":[{"key","submitted","delivered","undelivered","failed","pending","delivery_rate"}],"backlog":{…}}',
    )
    .action(async (opts: StatsOptions) => {
      const config = configOrExit();
      const conn = connect(config.DATABASE_URL);
      try {
        await migrate(conn);
        const report = await readStats(
          {
            conn,
            now: Date.now(),
            quietHours: parseQuietHours(config.MARKETING_QUIET_HOURS),
            defaultRate: config.MTS_RATE_LIMIT,
          },
          opts,
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const scope = report.portal ? ` (portal ${report.portal})` : '';
        process.stdout.write(
          `Messages created ${report.from} – ${report.to}, Europe/Minsk${scope}, by ${report.by}:\n${
            report.rows.length ? statsTable(report) : '(none)'
          }\n\n${backlogText(report.backlog)}\n`,
        );
      } catch (err) {
        if (err instanceof StatsUsageError) {
          await conn.close();
          fail(err.message, 2);
        }
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await conn.close().catch(() => {});
      }
    });
}
