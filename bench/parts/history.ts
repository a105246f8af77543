/**
 * 4. History. The same measurement twice, each on a fresh database with the portal
 * installed: once empty, once after seeding --history-rows finished messages (final states,
 * spread over --history-days, seeded with plain SQL while the service is stopped). Each time
 * the service (`serve`, workers on) is started and left to settle, then:
 *  - idle CPU: utime + stime over --history-idle-seconds with no traffic, as % of one core;
 *  - intake p99: autocannon at a fixed --history-load req/s for --history-seconds.
 * Figures = seeded ÷ empty; target ≤ 1.5 each. The idle ratio of two near-zero figures is
 * noise: the row shows both absolute values (10 ms tick resolution).
 */
import { createBenchDb } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { seedMessages } from '../lib/seed.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, registerIds, serviceEnv } from '../lib/stack.js';
import { sleep } from '../lib/time.js';
import { handlerForm, newB24MessageId } from '../lib/traffic.js';
import { cannon } from './intake.js';

interface Phase {
  idleCpuPct: number;
  p50: number;
  p99: number;
  rps: number;
  bad: number;
}

const SETTLE_MS = 5000;

async function phase(ctx: BenchContext, rows: number): Promise<Phase> {
  const { emu, opts } = ctx;
  const db = await createBenchDb(opts.db);
  let svc: ServiceProcess | undefined;
  try {
    const env = serviceEnv(emu.info, db, await freePort(), { MTS_RATE_LIMIT: '30' });
    svc = await startServe('service', env, { workers: true });
    const handlerPath = await installPortal(emu, svc.url);
    await svc.stop();
    if (rows > 0) {
      const s = await seedMessages(db, {
        kind: 'final',
        count: rows,
        portalId: emu.info.memberId,
        tag: 1,
        now: Date.now(),
        spreadMs: opts.n['history-days'] * 86_400_000,
        onProgress: (done) => process.stderr.write(`\r  seeded ${int(done)}/${int(rows)}`),
      });
      process.stderr.write(`\r  seeded ${int(rows)} finished messages in ${fmt(s, 1)} s\n`);
    }
    // The same stop/start on the empty database, so both phases start alike.
    svc = await startServe('service', env, { workers: true });
    await sleep(SETTLE_MS);
    const idleMs = opts.n['history-idle-seconds'] * 1000;
    const cpu0 = svc.cpuMs();
    const t0 = performance.now();
    await sleep(idleMs);
    const idleCpuPct = ((svc.cpuMs() - cpu0) / (performance.now() - t0)) * 100;

    const load = opts.n['history-load'];
    const seconds = opts.n['history-seconds'];
    const ids = Array.from({ length: Math.ceil(load * seconds * 1.2) + 100 }, newB24MessageId);
    await registerIds(emu, `history-${rows}-${Date.now()}`, ids);
    const auth = await emu.call('authFields', null);
    let i = 0;
    const r = await cannon(
      svc.url + handlerPath,
      () => handlerForm(i, ids[i++ % ids.length] ?? newB24MessageId(), auth),
      { seconds, connections: 10, overallRate: load },
    );
    note(
      `  ${int(rows)} rows: idle CPU ${fmt(idleCpuPct, 2)} % of a core; intake at ${load}/s: ${int(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
    );
    return { idleCpuPct, p50: r.p50, p99: r.p99, rps: r.rps, bad: r.non2xx + r.errors };
  } finally {
    await svc?.stop();
    await db.destroy();
  }
}

export const historyPart: Part = {
  name: 'history',
  title: 'A million finished messages of history',
  async run(ctx) {
    const rows = ctx.opts.n['history-rows'];
    note(`history: empty database, then ${int(rows)} finished rows, on ${ctx.opts.db}`);
    const empty = await phase(ctx, 0);
    const seeded = await phase(ctx, rows);
    const cpuRatio = seeded.idleCpuPct / empty.idleCpuPct;
    const p99Ratio = seeded.p99 / Math.max(1, empty.p99);
    const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : int(rows);
    const out: Row[] = [
      {
        part: 'history',
        figure: `History ${label} rows: idle CPU ÷ empty`,
        measured: `${fmt(cpuRatio, 2)} (${fmt(seeded.idleCpuPct, 2)} % vs ${fmt(empty.idleCpuPct, 2)} % of a core)`,
        target: '≤ 1.5',
        verdict: judge(cpuRatio <= 1.5),
        value: cpuRatio,
      },
      {
        part: 'history',
        figure: `History ${label} rows: intake p99 ÷ empty`,
        measured: `${fmt(p99Ratio, 2)} (${seeded.p99} vs ${empty.p99} ms at ${ctx.opts.n['history-load']} req/s${seeded.bad + empty.bad ? `; ${seeded.bad + empty.bad} non-2xx/errors` : ''})`,
        target: '≤ 1.5',
        verdict: judge(p99Ratio <= 1.5 && seeded.bad + empty.bad === 0),
        value: p99Ratio,
      },
    ];
    return out;
  },
};
