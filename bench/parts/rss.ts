/**
 * 6. Memory with a backlog. A fresh database with the portal installed gets
 * --rss-backlog queued messages (seeded with plain SQL while the service is stopped, all due
 * now); the MTS emulator is made slow (--rss-mts-latency, so the queue stays full); then the
 * service (`serve`, workers on) is started and its VmRSS / VmHWM (/proc/<pid>/status)
 * sampled every 250 ms for --rss-seconds while --rss-post more messages arrive through the
 * handler. Figure = VmHWM, the peak resident set since the process started (startup
 * included); target ≤ 150 MiB. The row also says how much of the backlog was still queued at
 * the end, so a backlog the service never saw cannot pass unnoticed.
 */
import { count, createBenchDb } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { seededB24Id, seedMessages } from '../lib/seed.js';
import { freePort, type ServiceProcess, startServe } from '../lib/serviceProcess.js';
import { installPortal, registerIds, serviceEnv } from '../lib/stack.js';
import { sleep } from '../lib/time.js';
import { handlerForm, newB24MessageId, postAll } from '../lib/traffic.js';

const TARGET_MIB = 150;
const SEED_TAG = 0xb4c106;

async function run(ctx: BenchContext): Promise<Row[]> {
  const { emu, opts } = ctx;
  const backlog = opts.n['rss-backlog'];
  const seconds = opts.n['rss-seconds'];
  const db = await createBenchDb(opts.db);
  let svc: ServiceProcess | undefined;
  try {
    await emu.call('mtsReset', { latencyMs: 50, dlrEnabled: true });
    const env = serviceEnv(emu.info, db, await freePort(), {
      MTS_RATE_LIMIT: '30',
      MTS_TIMEOUT: '60',
    });
    svc = await startServe('service', env, { workers: true });
    const handlerPath = await installPortal(emu, svc.url);
    await svc.stop();
    const s = await seedMessages(db, {
      kind: 'queued',
      count: backlog,
      portalId: emu.info.memberId,
      tag: SEED_TAG,
      now: Date.now(),
    });
    const tag = `rss-${Date.now()}`;
    await registerIds(
      emu,
      tag,
      Array.from({ length: backlog }, (_, i) => seededB24Id(SEED_TAG, i + 1)),
    );
    note(
      `  seeded ${int(backlog)} queued messages in ${fmt(s, 1)} s; MTS latency ${opts.n['rss-mts-latency']} ms`,
    );
    await emu.call('mtsSetLatency', { latencyMs: opts.n['rss-mts-latency'] });

    svc = await startServe('service', env, { workers: true });
    const proc = svc;
    let maxRss = 0;
    let samples = 0;
    const sample = () => {
      try {
        maxRss = Math.max(maxRss, proc.memory().rssMiB);
        samples++;
      } catch {
        // the process is gone: the waits below notice
      }
    };
    sample();
    const timer = setInterval(sample, 250);
    const auth = await emu.call('authFields', null);
    const ids = Array.from({ length: opts.n['rss-post'] }, newB24MessageId);
    await registerIds(emu, tag, ids);
    const t0 = performance.now();
    const posting = postAll(
      svc.url + handlerPath,
      ids.map((id, i) => handlerForm(i, id, auth)),
      // Spread over most of the window, so memory is sampled while traffic arrives.
      { concurrency: 4, perSecond: ids.length / Math.max(1, seconds * 0.8) },
    );
    await sleep(seconds * 1000);
    const posted = await posting;
    clearInterval(timer);
    sample();
    const mem = svc.memory();
    const elapsed = (performance.now() - t0) / 1000;
    const queued = await count(db, 'messages', "state = 'queued'");
    const mts = await emu.call('mtsSummary', null);
    note(
      `  ${samples} samples over ${fmt(elapsed, 0)} s: VmHWM ${fmt(mem.hwmMiB, 1)} MiB, max VmRSS ${fmt(maxRss, 1)} MiB; posted ${posted.ok} (${posted.failed} failed); MTS accepted ${mts.accepted}; ${int(queued)} still queued`,
    );
    const stillThere = queued >= backlog * 0.9;
    return [
      {
        part: 'rss',
        figure: `RSS with a ${int(backlog)}-message backlog (peak VmHWM)`,
        measured: `${fmt(mem.hwmMiB, 1)} MiB (max VmRSS ${fmt(maxRss, 1)}; ${int(queued)} queued at the end${stillThere ? '' : ' — backlog drained, figure not valid'}${mts.accepted === 0 ? '; nothing sent: did the service see the backlog?' : ''})`,
        target: `≤ ${TARGET_MIB} MiB`,
        verdict: stillThere ? judge(mem.hwmMiB <= TARGET_MIB) : 'ERROR',
        value: mem.hwmMiB,
      },
    ];
  } finally {
    await svc?.stop();
    await emu.call('mtsReset', { latencyMs: 50, dlrEnabled: true }).catch(() => {});
    await db.destroy();
  }
}

export const rssPart: Part = {
  name: 'rss',
  title: 'Memory with a large backlog',
  run(ctx) {
    note(
      `rss: ${int(ctx.opts.n['rss-backlog'])} queued messages behind a slow MTS on ${ctx.opts.db}`,
    );
    return run(ctx);
  },
};
