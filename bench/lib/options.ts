/**
 * Command-line flags of `npm run bench`. Precedence: an explicit flag, then the `--quick`
 * preset (a smoke run of a minute or two), then the full-scale default.
 */
import { parseArgs } from 'node:util';
import type { Dialect } from './database.js';
import type { RuntimeKind } from './runtime.js';

export const PART_NAMES = ['rate', 'cpu', 'intake', 'history', 'idle', 'rss', 'overview'] as const;
export type PartName = (typeof PART_NAMES)[number];

interface NumericFlag {
  full: number;
  quick: number;
  help: string;
}

/** Every numeric flag: full-scale default, quick default, meaning. */
export const NUMERIC = {
  'rate-messages': { full: 3000, quick: 300, help: 'messages per rate run' },
  'rate-latency': { full: 50, quick: 50, help: 'MTS emulator latency in the rate runs, ms' },
  'cpu-messages': { full: 1000, quick: 200, help: 'messages in the CPU run' },
  'cpu-rate': { full: 30, quick: 30, help: 'MTS_RATE_LIMIT in the CPU run' },
  'cpu-warmup': {
    full: 1500,
    quick: 100,
    help: 'messages sent (not measured) before the CPU run: V8 compiles the hot paths meanwhile',
  },
  'intake-seconds': { full: 8, quick: 3, help: 'seconds per autocannon round' },
  'intake-connections': { full: 20, quick: 20, help: 'autocannon connections' },
  'intake-rounds': { full: 2, quick: 1, help: 'alternating bare/handler rounds' },
  'history-rows': { full: 1_000_000, quick: 50_000, help: 'finished rows seeded' },
  'history-days': { full: 90, quick: 90, help: 'seeded history spans this many days' },
  'history-idle-seconds': { full: 20, quick: 6, help: 'idle CPU window' },
  'history-seconds': { full: 10, quick: 5, help: 'intake latency window' },
  'history-rounds': { full: 2, quick: 1, help: 'latency windows per phase (the best p99 counts)' },
  'history-load': { full: 100, quick: 100, help: 'intake requests/s during the latency window' },
  'idle-seconds': { full: 30, quick: 8, help: 'idle window for counting writes' },
  'idle-settle': { full: 10, quick: 4, help: 'seconds after install before counting' },
  'rss-backlog': { full: 100_000, quick: 10_000, help: 'queued messages seeded' },
  'rss-seconds': { full: 45, quick: 10, help: 'memory sampling window' },
  'rss-post': { full: 2000, quick: 200, help: 'messages posted during the window' },
  'rss-mts-latency': { full: 5000, quick: 5000, help: 'MTS emulator latency (slow MTS), ms' },
  'overview-rows': { full: 1_000_000, quick: 100_000, help: 'finished messages over 30 days' },
  'overview-backlog': { full: 5000, quick: 1000, help: 'queued messages beside them' },
  'overview-requests': { full: 20, quick: 10, help: 'timed GET /api/overview requests' },
  'max-minutes': { full: 25, quick: 10, help: 'hard time limit of the whole run' },
} satisfies Record<string, NumericFlag>;

export type NumericName = keyof typeof NUMERIC;

export interface Options {
  only: PartName[];
  quick: boolean;
  /** Backend of every part but `idle` (which has its own list). */
  db: Dialect;
  rates: number[];
  /** `separate`: intake on a `serve --no-workers` instance, so the CPU figure is send + DLR + push only. */
  cpuIntake: 'separate' | 'same';
  idleDbs: Dialect[];
  /** How service processes run: compiled (`dist`, default, as `npm start`) or through tsx. */
  runtime: RuntimeKind;
  json: string | undefined;
  n: Record<NumericName, number>;
}

export function usage(): string {
  const lines = [
    'npm run bench -- [flags]',
    `  --only ${PART_NAMES.join(',')}   parts to run (default all)`,
    '  --quick                  small scale (smoke run); explicit flags still win',
    '  --db sqlite|postgres     backend of rate, cpu, intake, history, rss, overview (default sqlite)',
    '  --rates 20,30            contracted rates (MTS_RATE_LIMIT) of the rate runs',
    '  --cpu-intake separate|same  intake on its own instance (default) or on the measured one',
    '  --idle-db sqlite,postgres   backends of the idle-writes part (postgres skipped when down)',
    '  --runtime dist|tsx       service compiled to a temp folder (default, as npm start) or via tsx',
    '  --json FILE              also write the rows as JSON',
    ...Object.entries(NUMERIC).map(
      ([k, v]) => `  --${k.padEnd(22)} ${v.help} (default ${v.full}, quick ${v.quick})`,
    ),
  ];
  return lines.join('\n');
}

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items)
    if (!allowed.includes(i as T))
      throw new Error(`--${flag}: unknown "${i}" (${allowed.join(', ')})`);
  return items as T[];
}

export function parseOptions(argv: string[]): Options | 'help' {
  const numericOpts = Object.fromEntries(
    Object.keys(NUMERIC).map((k) => [k, { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      db: { type: 'string', default: 'sqlite' },
      rates: { type: 'string', default: '20,30' },
      'cpu-intake': { type: 'string', default: 'separate' },
      'idle-db': { type: 'string', default: 'sqlite,postgres' },
      runtime: { type: 'string', default: 'dist' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...numericOpts,
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick === true;
  const n = {} as Record<NumericName, number>;
  for (const [k, def] of Object.entries(NUMERIC) as [NumericName, NumericFlag][]) {
    const raw = (values as Record<string, unknown>)[k];
    const v = typeof raw === 'string' ? Number(raw) : quick ? def.quick : def.full;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${k}: expected a positive number`);
    n[k] = v;
  }
  const db = list(String(values.db), ['sqlite', 'postgres'] as const, 'db');
  const cpuIntake = String(values['cpu-intake']);
  if (cpuIntake !== 'separate' && cpuIntake !== 'same')
    throw new Error('--cpu-intake: separate or same');
  const runtime = String(values.runtime);
  if (runtime !== 'dist' && runtime !== 'tsx') throw new Error('--runtime: dist or tsx');
  const rates = String(values.rates)
    .split(',')
    .map(Number)
    .filter((r) => r > 0);
  if (rates.length === 0) throw new Error('--rates: e.g. 20,30');
  return {
    only: values.only ? list(String(values.only), PART_NAMES, 'only') : [...PART_NAMES],
    quick,
    db: db[0] ?? 'sqlite',
    rates,
    cpuIntake,
    idleDbs: list(String(values['idle-db']), ['sqlite', 'postgres'] as const, 'idle-db'),
    runtime,
    json: values.json as string | undefined,
    n,
  };
}
