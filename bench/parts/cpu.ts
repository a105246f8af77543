/**
 * 2. CPU per 1,000 messages. A sending instance (`serve`, MTS_RATE_LIMIT = --cpu-rate) is
 * started and left to settle; then N messages are posted — by default to a second,
 * intake-only instance on the same database (`serve --no-workers`), so that the measured
 * process does exactly send + DLR + status push — and the run ends when every message shows
 * a final status in the Bitrix24 emulator. CPU = utime + stime of the sending process from
 * /proc/<pid>/stat, read right before the first POST and right after the last status
 * arrived; figure = CPU ÷ N × 1000. With --cpu-intake same the one instance also takes the
 * POSTs, and the figure includes intake.
 */
import { createBenchDb } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, registerIds, serviceEnv } from '../lib/stack.js';
import { sleep, waitUntil } from '../lib/time.js';
import { expectAllQueued, handlerForm, newB24MessageId, postAll } from '../lib/traffic.js';

const TARGET_S = 2.5;

async function run(ctx: BenchContext): Promise<Row[]> {
  const { emu, opts } = ctx;
  const n = opts.n['cpu-messages'];
  const rate = opts.n['cpu-rate'];
  const separate = opts.cpuIntake === 'separate';
  const db = await createBenchDb(opts.db);
  let intake: ServiceProcess | undefined;
  let sender: ServiceProcess | undefined;
  try {
    await emu.call('mtsReset', { latencyMs: 50, dlrEnabled: true });
    if (separate)
      intake = await startServe('intake', serviceEnv(emu.info, db, await freePort()), {
        workers: false,
      });
    // The sender reads the portal's callback key at start: install before it starts.
    let handlerPath = intake ? await installPortal(emu, intake.url) : '';
    sender = await startServe(
      'sender',
      serviceEnv(emu.info, db, await freePort(), { MTS_RATE_LIMIT: String(rate) }),
      { workers: true },
    );
    if (!intake) handlerPath = await installPortal(emu, sender.url);
    const target = intake ?? sender;
    const auth = await emu.call('authFields', null);
    /** Posts `count` messages and waits until Bitrix24 has every final status. */
    const round = async (label: string, count: number) => {
      const tag = `${label}-${Date.now()}`;
      const ids = Array.from({ length: count }, newB24MessageId);
      await registerIds(emu, tag, ids);
      const bodies = ids.map((id, i) => handlerForm(i, id, auth));
      const rest0 = (await emu.call('statusSummary', { tag })).restRequests;
      const cpu0 = sender?.cpuMs() ?? 0;
      const intakeCpu0 = intake?.cpuMs() ?? 0;
      const t0 = Date.now();
      const posted = await postAll(target.url + handlerPath, bodies, { concurrency: 8 });
      const intakeCpu = (intake?.cpuMs() ?? 0) - intakeCpu0;
      expectAllQueued(posted, count);
      await waitUntil(
        `final statuses of ${count} messages in the Bitrix24 emulator`,
        async () => (await emu.call('statusSummary', { tag })).final >= count,
        (count / rate) * 1000 * 2 + 120_000,
        200,
        async () => {
          const s = await emu.call('statusSummary', { tag });
          return `${s.final}/${count} final statuses in Bitrix24 after ${Math.round((Date.now() - t0) / 1000)} s`;
        },
      );
      const cpu = (sender?.cpuMs() ?? 0) - cpu0;
      const seconds = (Date.now() - t0) / 1000;
      const summary = await emu.call('statusSummary', { tag });
      return { cpu, intakeCpu, seconds, posted, summary, rest: summary.restRequests - rest0 };
    };
    await sleep(3000); // startup (module loading, first registration) is not counted
    // V8 keeps compiling hot paths for the first thousand or so messages at 30/s; a service
    // runs for days, so the figure is its steady state. The warm-up's own figure is printed.
    const warm = opts.n['cpu-warmup'] > 0 ? await round('cpu-warmup', opts.n['cpu-warmup']) : null;
    if (warm)
      note(
        `  warm-up: ${int(opts.n['cpu-warmup'])} messages, sender CPU ${fmt(warm.cpu / 1000, 2)} s (${fmt(warm.cpu / opts.n['cpu-warmup'], 2)} s per 1,000)`,
      );
    const { cpu, intakeCpu, seconds, posted, summary, rest } = await round('cpu', n);
    const mts = await emu.call('mtsSummary', null);
    const per1000 = cpu / 1000 / (n / 1000);
    note(
      `  ${int(n)} messages: posted in ${fmt(posted.seconds, 1)} s, all final in Bitrix24 after ${fmt(seconds, 1)} s; sender CPU ${fmt(cpu / 1000, 2)} s; MTS requests ${JSON.stringify(mts.byKind)}; Bitrix24 REST requests ${rest}; statuses ${JSON.stringify(summary.byStatus)}`,
    );
    const rows: Row[] = [
      {
        part: 'cpu',
        figure: `CPU per 1,000 messages (${separate ? 'send + DLR + push' : 'intake + send + DLR + push'}, after ${int(opts.n['cpu-warmup'])} warm-up)`,
        measured: `${fmt(per1000, 2)} s (${fmt(cpu / 1000, 2)} s for ${int(n)} in ${fmt(seconds, 0)} s at ${rate}/s)`,
        target: `≤ ${TARGET_S} s`,
        verdict: judge(per1000 <= TARGET_S),
        value: per1000,
      },
    ];
    if (warm)
      rows.push({
        part: 'cpu',
        figure: `CPU per 1,000 messages during the warm-up (the first ${int(opts.n['cpu-warmup'])}, JIT compiling)`,
        measured: `${fmt(warm.cpu / opts.n['cpu-warmup'], 2)} s`,
        target: '—',
        verdict: 'INFO',
        value: warm.cpu / opts.n['cpu-warmup'],
      });
    if (intake)
      rows.push({
        part: 'cpu',
        figure: 'CPU per 1,000 messages of intake (the no-workers instance)',
        measured: `${fmt(intakeCpu / n, 2)} s`,
        target: '—',
        verdict: 'INFO',
        value: intakeCpu / n,
      });
    return rows;
  } finally {
    await sender?.stop();
    await intake?.stop();
    await db.destroy();
  }
}

export const cpuPart: Part = {
  name: 'cpu',
  title: 'CPU of the service per 1,000 messages',
  run(ctx) {
    note(
      `cpu: ${int(ctx.opts.n['cpu-messages'])} messages at MTS_RATE_LIMIT=${ctx.opts.n['cpu-rate']} on ${ctx.opts.db}, intake ${ctx.opts.cpuIntake}`,
    );
    return run(ctx);
  },
};
