/**
 * npm run bench — the performance targets of issue 9, each printed as figure, target and
 * PASS/FAIL. Every part starts its own service child process(es) on a throwaway database
 * and talks to it only through its public surfaces (CLI, environment, HTTP, plain SQL); the
 * MTS and Bitrix24 emulators run in one more process. Machines are small and noisy: each
 * figure is a ratio against a baseline measured in the same run, or an absolute budget.
 *
 *   npm run bench                         all parts, full scale (~10 min)
 *   npm run bench -- --quick              all parts, small scale (smoke run)
 *   npm run bench -- --only rate,cpu      some parts; see --help for every flag
 *
 * Exit code 0 whatever the verdicts (it is a report); 1 when a part crashed.
 * See docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup.js';
import { pgAvailable } from './lib/database.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { type Options, type PART_NAMES, parseOptions, usage } from './lib/options.js';
import type { BenchContext, Part } from './lib/part.js';
import { fmt, note, printTable, type Row } from './lib/report.js';
import { prepareRuntime } from './lib/runtime.js';
import { cpuPart } from './parts/cpu.js';
import { historyPart } from './parts/history.js';
import { idleWritesPart } from './parts/idleWrites.js';
import { intakePart } from './parts/intake.js';
import { overviewPart } from './parts/overview.js';
import { ratePart } from './parts/rate.js';
import { rssPart } from './parts/rss.js';

const PARTS: Record<(typeof PART_NAMES)[number], Part> = {
  rate: ratePart,
  cpu: cpuPart,
  intake: intakePart,
  history: historyPart,
  idle: idleWritesPart,
  rss: rssPart,
  overview: overviewPart,
};

async function main(): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  installCleanupHandlers(opts.n['max-minutes']);
  const started = Date.now();
  const needsPg =
    opts.db === 'postgres' || (opts.only.includes('idle') && opts.idleDbs.includes('postgres'));
  const pgUp = needsPg ? await pgAvailable() : false;
  if (opts.db === 'postgres' && !pgUp) {
    process.stderr.write('--db postgres: PostgreSQL does not answer (BENCH_PG_URL)\n');
    return 2;
  }
  note(
    `bench: ${opts.only.join(', ')}${opts.quick ? ' (quick)' : ''}, runtime ${opts.runtime}; ${new Date().toISOString()}`,
  );
  const rows: Row[] = [];
  let crashed = false;
  try {
    const built = await prepareRuntime(opts.runtime);
    if (built) note(`compiled the service in ${fmt(built, 1)} s`);
    const emu = await startEmulatorProcess();
    const ctx: BenchContext = { emu, opts, pgUp };
    try {
      for (const name of opts.only) {
        const part = PARTS[name];
        const t0 = Date.now();
        try {
          rows.push(...(await part.run(ctx)));
        } catch (err) {
          crashed = true;
          note(`${name}: FAILED TO RUN: ${(err as Error).stack ?? err}`);
          rows.push({
            part: name,
            figure: part.title,
            measured: `crashed: ${(err as Error).message.split('\n')[0]?.slice(0, 120)}`,
            target: '—',
            verdict: 'ERROR',
          });
        }
        note(`${name}: ${fmt((Date.now() - t0) / 1000, 0)} s\n`);
      }
    } finally {
      await emu.close();
    }
  } finally {
    await cleanupAll();
  }
  printTable(rows);
  note(`\nbench finished in ${fmt((Date.now() - started) / 60_000, 1)} min`);
  if (opts.json)
    writeFileSync(
      opts.json,
      `${JSON.stringify({ at: new Date().toISOString(), quick: opts.quick, rows }, null, 2)}\n`,
    );
  return crashed ? 1 : 0;
}

process.exitCode = await main().catch((err) => {
  process.stderr.write(`bench crashed: ${(err as Error).stack ?? err}\n`);
  return 1;
});
// Handles of finished children or sockets must not keep a finished report alive.
process.exit(process.exitCode);
