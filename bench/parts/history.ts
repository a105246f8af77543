/**
 * 4. History. Two fresh databases with the portal installed: one stays empty, the other gets
 * --history-rows finished messages (final states spread over --history-days, seeded with
 * plain SQL while its service is stopped). Both services (`serve`, workers on) then run side
 * by side, so that whatever else loads the machine loads both alike:
 *  - idle CPU: utime + stime of each over the same --history-idle-seconds window, no traffic;
 *  - intake p99: autocannon at a fixed --history-load req/s against each in turn (after a
 *    2 s warm-up each), --history-rounds alternating windows of --history-seconds; the best
 *    window of each counts (other processes only ever add latency).
 * Figures = seeded ÷ empty; target ≤ 1.5 each. A ratio of two near-zero idle figures is
 * noisy: the row shows both absolute values (10 ms tick resolution).
 */
import { type BenchDb, createBenchDb } from '../lib/database.js';
import type { EmulatorProcess } from '../lib/emulatorProcess.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { seedMessages } from '../lib/seed.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, registerIds, serviceEnv } from '../lib/stack.js';
import { sleep } from '../lib/time.js';
import { handlerForm, newB24MessageId } from '../lib/traffic.js';
import { cannon } from './intake.js';

const SETTLE_MS = 5000;
const WARMUP_S = 2;

interface Side {
  rows: number;
  db: BenchDb;
  env: Record<string, string>;
  handlerPath: string;
  svc?: ServiceProcess;
}

/** A database with the portal installed (by a service started and stopped for it). */
async function prepare(emu: EmulatorProcess, ctx: BenchContext, rows: number): Promise<Side> {
  const db = await createBenchDb(ctx.opts.db);
  const env = serviceEnv(emu.info, db, await freePort(), { MTS_RATE_LIMIT: '30' });
  const svc = await startServe('service', env, { workers: true });
  try {
    return { rows, db, env, handlerPath: await installPortal(emu, svc.url) };
  } finally {
    await svc.stop();
  }
}

interface Latency {
  p50: number;
  p99: number;
  rps: number;
  bad: number;
}

export const historyPart: Part = {
  name: 'history',
  title: 'A million finished messages of history',
  async run(ctx) {
    const { emu, opts } = ctx;
    const rows = opts.n['history-rows'];
    note(`history: an empty database beside one with ${int(rows)} finished rows, on ${opts.db}`);
    const sides: Side[] = [];
    try {
      sides.push(await prepare(emu, ctx, 0));
      const seeded = await prepare(emu, ctx, rows);
      sides.push(seeded);
      const s = await seedMessages(seeded.db, {
        kind: 'final',
        count: rows,
        portalId: emu.info.memberId,
        tag: 1,
        now: Date.now(),
        spreadMs: opts.n['history-days'] * 86_400_000,
        onProgress: (done) => process.stderr.write(`\r  seeded ${int(done)}/${int(rows)}`),
      });
      process.stderr.write(`\r  seeded ${int(rows)} finished messages in ${fmt(s, 1)} s\n`);
      for (const side of sides)
        side.svc = await startServe(`service (${side.rows} rows)`, side.env, { workers: true });
      await sleep(SETTLE_MS);

      const running = sides.map((side) => side.svc as ServiceProcess);
      const cpu0 = running.map((p) => p.cpuMs());
      const t0 = performance.now();
      await sleep(opts.n['history-idle-seconds'] * 1000);
      const wall = performance.now() - t0;
      const idlePct = running.map((p, k) => ((p.cpuMs() - (cpu0[k] ?? 0)) / wall) * 100);

      const load = opts.n['history-load'];
      const seconds = opts.n['history-seconds'];
      const rounds = opts.n['history-rounds'];
      const ids = Array.from(
        { length: Math.ceil(load * (seconds * rounds + WARMUP_S) * 2 * 1.2) + 100 },
        newB24MessageId,
      );
      await registerIds(emu, `history-${Date.now()}`, ids);
      const auth = await emu.call('authFields', null);
      let i = 0;
      const body = () => handlerForm(i, ids[i++ % ids.length] ?? newB24MessageId(), auth);
      const urls = sides.map((side) => (side.svc as ServiceProcess).url + side.handlerPath);
      for (const url of urls)
        await cannon(url, body, { seconds: WARMUP_S, connections: 10, overallRate: load });
      const best: (Latency | undefined)[] = [undefined, undefined];
      for (let round = 0; round < rounds; round++)
        for (const [k, url] of urls.entries()) {
          const r = await cannon(url, body, { seconds, connections: 10, overallRate: load });
          const b = best[k];
          const bad = r.non2xx + r.errors + (b?.bad ?? 0);
          best[k] =
            !b || r.p99 < b.p99 ? { p50: r.p50, p99: r.p99, rps: r.rps, bad } : { ...b, bad };
          note(
            `  ${int(sides[k]?.rows ?? 0)} rows, round ${round + 1}: ${int(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
          );
        }
      const [emptyIdle = 0, seededIdle = 0] = idlePct;
      const [empty, full] = best as [Latency, Latency];
      note(`  idle CPU: empty ${fmt(emptyIdle, 2)} %, seeded ${fmt(seededIdle, 2)} % of a core`);
      const cpuRatio = seededIdle / emptyIdle;
      const p99Ratio = full.p99 / Math.max(1, empty.p99);
      const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : int(rows);
      const bad = empty.bad + full.bad;
      const out: Row[] = [
        {
          part: 'history',
          figure: `History ${label} rows: idle CPU ÷ empty`,
          measured: `${fmt(cpuRatio, 2)} (${fmt(seededIdle, 2)} % vs ${fmt(emptyIdle, 2)} % of a core)`,
          target: '≤ 1.5',
          verdict: judge(cpuRatio <= 1.5),
          value: cpuRatio,
        },
        {
          part: 'history',
          figure: `History ${label} rows: intake p99 ÷ empty`,
          measured: `${fmt(p99Ratio, 2)} (${full.p99} vs ${empty.p99} ms at ${load} req/s${bad ? `; ${bad} non-2xx/errors` : ''})`,
          target: '≤ 1.5',
          verdict: judge(p99Ratio <= 1.5 && bad === 0),
          value: p99Ratio,
        },
      ];
      return out;
    } finally {
      for (const side of sides) await side.svc?.stop();
      for (const side of sides) await side.db.destroy();
    }
  },
};
