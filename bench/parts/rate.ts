/**
 * 1. Rate. N messages (30 % Cyrillic) are posted to an intake-only instance
 * (`serve --no-workers`), which is then stopped; a sending instance (`serve`,
 * MTS_RATE_LIMIT = R) is started on the same database and drains the queue into the MTS
 * emulator (own process, 50 ms latency, DLRs on). Measured at MTS, from the arrival times of
 * the accepted sends:
 *   achieved = (N − 1) / (t_last − t_first)   — N sends span N − 1 intervals
 *   ratio    = achieved / R                    target ≥ 0.98
 * and the most requests of any kind (sends and status queries: the contract counts both) in
 * any sliding 1 s window [t, t + 1000 ms), which must not exceed R.
 */
import { createBenchDb } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, registerIds, serviceEnv } from '../lib/stack.js';
import { waitUntil } from '../lib/time.js';
import { expectAllQueued, handlerForm, newB24MessageId, postAll } from '../lib/traffic.js';

async function rateRun(ctx: BenchContext, rate: number): Promise<Row[]> {
  const { emu, opts } = ctx;
  const n = opts.n['rate-messages'];
  const latency = opts.n['rate-latency'];
  const db = await createBenchDb(opts.db);
  let intake: ServiceProcess | undefined;
  let sender: ServiceProcess | undefined;
  try {
    await emu.call('mtsReset', { latencyMs: latency, dlrEnabled: true });
    intake = await startServe('intake', serviceEnv(emu.info, db, await freePort()), {
      workers: false,
    });
    const handlerPath = await installPortal(emu, intake.url);
    const auth = await emu.call('authFields', null);
    const ids = Array.from({ length: n }, newB24MessageId);
    await registerIds(emu, `rate-${rate}`, ids);
    const posted = await postAll(
      intake.url + handlerPath,
      ids.map((id, i) => handlerForm(i, id, auth)),
      { concurrency: 16 },
    );
    expectAllQueued(posted, n);
    note(
      `  ${int(n)} messages queued in ${fmt(posted.seconds, 1)} s; starting the sender at ${rate}/s`,
    );
    await intake.stop();

    sender = await startServe(
      'sender',
      serviceEnv(emu.info, db, await freePort(), { MTS_RATE_LIMIT: String(rate) }),
      { workers: true },
    );
    const started = Date.now();
    await waitUntil(
      `${n} sends at the MTS emulator`,
      async () => (await emu.call('mtsSummary', null)).accepted >= n,
      ((2 * n) / rate) * 1000 + 60_000,
      500,
      async () =>
        `${(await emu.call('mtsSummary', null)).accepted}/${n} sent after ${Math.round((Date.now() - started) / 1000)} s`,
    );
    const summary = await emu.call('mtsSummary', null);
    const times = (await emu.call('mtsSendTimes', null)).sort((a, b) => a - b);
    const first = times[0] ?? 0;
    const last = times[times.length - 1] ?? 0;
    const spanS = (last - first) / 1000;
    const achieved = (times.length - 1) / spanS;
    const ratio = achieved / rate;
    note(
      `  ${times.length} sends in ${fmt(spanS, 1)} s: ${fmt(achieved, 2)}/s; worst 1 s window ${summary.worstWindowAll} requests (${summary.worstWindowSends} sends); requests by kind ${JSON.stringify(summary.byKind)}`,
    );
    const extra = summary.accepted - n;
    return [
      {
        part: 'rate',
        figure: `Rate @${rate}/s: achieved ÷ contracted`,
        measured: `${fmt(ratio, 3)} (${fmt(achieved, 2)}/s = (n−1)/span, n=${int(times.length)}, ${fmt(spanS, 1)} s)`,
        target: '≥ 0.98',
        verdict: judge(ratio >= 0.98),
        value: ratio,
      },
      {
        part: 'rate',
        figure: `Rate @${rate}/s: worst 1 s window at MTS`,
        measured: `${summary.worstWindowAll} requests (${summary.worstWindowSends} sends)${extra > 0 ? `; ${extra} sends beyond ${n}!` : ''}`,
        target: `≤ ${rate}`,
        verdict: judge(summary.worstWindowAll <= rate && extra <= 0),
        value: summary.worstWindowAll,
      },
    ];
  } finally {
    await sender?.stop();
    await intake?.stop();
    await db.destroy();
  }
}

export const ratePart: Part = {
  name: 'rate',
  title: 'MTS send rate against the contracted limit',
  async run(ctx) {
    const rows: Row[] = [];
    for (const rate of ctx.opts.rates) {
      note(
        `rate: ${int(ctx.opts.n['rate-messages'])} messages at MTS_RATE_LIMIT=${rate} on ${ctx.opts.db}`,
      );
      rows.push(...(await rateRun(ctx, rate)));
    }
    return rows;
  },
};
