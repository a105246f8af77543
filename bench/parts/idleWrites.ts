/**
 * 5. Idle writes. A fresh database per backend, write counters installed
 * (lib/writeCounter.ts), the service (`serve`, workers on) started and the portal installed;
 * after --idle-settle seconds, everything written during --idle-seconds with no traffic is
 * counted. Figure = write transactions per second (SQLite: commits seen); target ≤ 1/s.
 * The backends run at the same time: a count of writes does not depend on spare CPU.
 */
import { createBenchDb, type Dialect } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, judge, note, type Row } from '../lib/report.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, serviceEnv } from '../lib/stack.js';
import { sleep } from '../lib/time.js';
import { installWriteCounter, openWriteWindow } from '../lib/writeCounter.js';

async function run(ctx: BenchContext, dialect: Dialect): Promise<Row> {
  const { emu, opts } = ctx;
  const seconds = opts.n['idle-seconds'];
  const db = await createBenchDb(dialect);
  let svc: ServiceProcess | undefined;
  try {
    await installWriteCounter(db);
    svc = await startServe('service', serviceEnv(emu.info, db, await freePort()), {
      workers: true,
    });
    await installPortal(emu, svc.url);
    await sleep(opts.n['idle-settle'] * 1000);
    const window = await openWriteWindow(db);
    const t0 = performance.now();
    const cpu0 = svc.cpuMs();
    await sleep(seconds * 1000);
    const idleCpuMs = svc.cpuMs() - cpu0;
    const w = await window.stop();
    const elapsed = (performance.now() - t0) / 1000;
    const perSecond = w.transactions / elapsed;
    const what = dialect === 'sqlite' ? 'commits' : 'write transactions';
    const tables = Object.entries(w.byTable)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    note(
      `  ${dialect}: ${w.transactions} ${what}, ${w.rows} rows in ${fmt(elapsed, 1)} s (${tables || 'none'})${w.pgStatRows !== undefined ? `; pg_stat_user_tables rows ${w.pgStatRows}` : ''}; CPU ${fmt(idleCpuMs / elapsed, 1)} ms per second idle`,
    );
    return {
      part: 'idle',
      figure: `Idle writes (${dialect}): ${what} per second`,
      measured: `${fmt(perSecond, 2)}/s (${w.transactions} in ${fmt(elapsed, 0)} s; ${w.rows} rows${tables ? `: ${tables}` : ''})`,
      target: '≤ 1/s',
      verdict: judge(perSecond <= 1),
      value: perSecond,
    };
  } finally {
    await svc?.stop();
    await db.destroy();
  }
}

export const idleWritesPart: Part = {
  name: 'idle',
  title: 'Database writes of an idle service',
  async run(ctx) {
    const skipped: Row[] = [];
    const dialects = ctx.opts.idleDbs.filter((dialect) => {
      if (dialect !== 'postgres' || ctx.pgUp) return true;
      note('idle: PostgreSQL does not answer; its variant is skipped');
      skipped.push({
        part: 'idle',
        figure: 'Idle writes (postgres)',
        measured: 'skipped: PostgreSQL not reachable',
        target: '≤ 1/s',
        verdict: 'INFO',
      });
      return false;
    });
    note(
      `idle: ${ctx.opts.n['idle-seconds']} s without traffic on ${dialects.join(' and ')} (side by side: counts do not depend on CPU)`,
    );
    return [...(await Promise.all(dialects.map((d) => run(ctx, d)))), ...skipped];
  },
};
