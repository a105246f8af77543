/**
 * npm run bench:campaign — a campaign over a sample CRM, sent by the real service (`serve`,
 * compiled like `npm start`) to the MTS emulator; each emulator in a process of its own.
 * Prints:
 * - efficiency = ideal duration ÷ measured duration, where the ideal is (recipients − 1) ÷ the
 *   contracted rate and the measured one runs from the first to the last send MTS accepted
 *   (issue 10 says "duration ÷ ideal ≥ 0.98"; read as this ratio, 1.0 = at the contract's
 *   rate the whole way) — target ≥ 0.98;
 * - the service's peak RSS (VmHWM) over the whole run with the audience stored — target ≤ 150 MiB;
 * - how long `campaign create` took (CRM read, consent, audience, estimate).
 * Options: --contacts 115000 (≈ 100,000 recipients: some records have no valid mobile, some
 * repeat a number, 5 % lack consent)  --rate 100 (MTS_RATE_LIMIT)  --quick (12,000 contacts)
 */
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup.js';
import { createBenchDb } from './lib/database.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { ROOT } from './lib/paths.js';
import { fmt, int, judge, printTable, type Row } from './lib/report.js';
import { prepareRuntime } from './lib/runtime.js';
import { freePort, startServe } from './lib/serviceProcess.js';
import { installPortal, serviceEnv } from './lib/stack.js';
import { sleep } from './lib/time.js';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string' },
    rate: { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
  },
});
const CONTACTS = Number(args.contacts ?? (args.quick ? 12_000 : 115_000));
const RATE = Number(args.rate);
const run = promisify(execFile);

/** `b24-mts-sms <args>` from the sources, as an operator runs it next to the service. */
async function cli(argv: string[], env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...argv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

async function main(): Promise<number> {
  installCleanupHandlers(60);
  await prepareRuntime('dist');
  // The Bitrix24 emulator (the whole sample CRM, the timeline logs, the consent reads) and the
  // MTS emulator in processes of their own: sharing one, the 115,000 contacts' Bitrix24 work
  // stalled the MTS emulator's event loop for up to 0.6 s, which the figures then measured.
  // Both at nice 10: they stand in for MTS's and Bitrix24's servers, which do not share the
  // service's cores in production. At nice 0, on two cores, the MTS emulator's growing heap
  // (every message it accepted) and the 115,000-contact CRM took the cores from the service's
  // departure thread often enough that 1.4 % of sends missed their slot by more than 5 ms.
  const emu = await startEmulatorProcess({ nice: 10 });
  const mtsEmu = await startEmulatorProcess({ nice: 10 });
  const db = await createBenchDb('sqlite');
  try {
    process.stderr.write(`seeding ${int(CONTACTS)} contacts (95 % with consent)…\n`);
    await emu.call('seedSampleCrm', { contacts: CONTACTS, consentShare: 0.95, seed: 10 });
    await mtsEmu.call('mtsReset', { latencyMs: 20, dlrEnabled: true });
    const { mtsUrl, mtsClientId, mtsLogin, mtsPassword } = mtsEmu.info;
    const info = { ...emu.info, mtsUrl, mtsClientId, mtsLogin, mtsPassword };
    const env = serviceEnv(info, db, await freePort(), {
      MTS_RATE_LIMIT: String(RATE),
      SENDER_CONCURRENCY: '64',
    });
    const svc = await startServe('service', env, { workers: true });
    const rssNote = (when: string) =>
      process.stderr.write(
        `  service RSS ${when}: ${fmt(svc.memory().rssMiB, 1)} MiB (peak so far ${fmt(svc.memory().hwmMiB, 1)})\n`,
      );
    rssNote('at start');
    await installPortal(emu, svc.url);
    rssNote('after install (consent sync)');

    const t0 = performance.now();
    const created = (await cli(
      [
        'campaign',
        'create',
        '--name',
        'bench',
        '--entity',
        'contact',
        '--text',
        'Hi #NAME#, -20% until Sunday',
        '--json',
      ],
      env,
    )) as { id: number; recipients: number; duration_s: number };
    const createS = (performance.now() - t0) / 1000;
    const n = created.recipients;
    process.stderr.write(
      `campaign ${created.id}: ${int(n)} recipients, created in ${fmt(createS, 1)} s; estimate ${int(created.duration_s)} s at ${RATE}/s\n`,
    );

    rssNote('after campaign create');
    await cli(['campaign', 'start', String(created.id), '--json'], env);
    let peakRss = 0;
    const cpuBefore = svc.cpuMs();
    const started = performance.now();
    for (;;) {
      await sleep(1000);
      peakRss = Math.max(peakRss, svc.memory().rssMiB);
      const s = (await mtsEmu.call('mtsSummary', null)).accepted;
      const elapsed = (performance.now() - started) / 1000;
      if (Math.round(elapsed) % 10 === 0)
        process.stderr.write(
          `  … ${int(s)}/${int(n)} accepted after ${fmt(elapsed, 0)} s; service RSS ${fmt(svc.memory().rssMiB, 1)} MiB\n`,
        );
      if (s >= n) break;
      if (elapsed > (n / RATE) * 3 + 120)
        throw new Error(`only ${s} of ${n} accepted after ${fmt(elapsed, 0)} s`);
    }
    const cpuS = (svc.cpuMs() - cpuBefore) / 1000;
    const sendingS = (performance.now() - started) / 1000;
    const summary = await mtsEmu.call('mtsSummary', null);
    const times = (await mtsEmu.call('mtsSendTimes', null)).slice().sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    const slot = 1000 / RATE;
    const lost = gaps.filter((g) => g > 2 * slot).reduce((a, g) => a + g - slot, 0) / 1000;
    process.stderr.write(
      `MTS requests by kind ${JSON.stringify(summary.byKind)}; on the emulator's arrival clock (its own pauses bunch arrivals; the tests measure windows): worst 1 s window ${summary.worstWindowSends} sends; ` +
        `${gaps.filter((g) => g > 2 * slot).length} gaps over 2 slots, ${fmt(lost, 1)} s lost in them; longest gap ${fmt(Math.max(...gaps), 0)} ms\n`,
    );
    const measured = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    const ideal = (n - 1) / RATE;
    const efficiency = ideal / measured;
    const hwm = svc.memory().hwmMiB;
    await svc.stop();
    const rows: Row[] = [
      {
        part: 'campaign',
        figure: `Campaign of ${int(n)} recipients at ${RATE}/s: ideal ÷ measured duration`,
        measured: `${fmt(efficiency, 3)} (${fmt(measured, 1)} s vs ${fmt(ideal, 1)} s)`,
        target: '≥ 0.98',
        verdict: judge(efficiency >= 0.98),
        value: efficiency,
      },
      {
        part: 'campaign',
        figure: `Service peak RSS (VmHWM) with ${int(n)} recipients stored and sending`,
        measured: `${fmt(hwm, 1)} MiB (max sampled VmRSS ${fmt(peakRss, 1)})`,
        target: '≤ 150 MiB',
        verdict: judge(hwm <= 150),
        value: hwm,
      },
      {
        part: 'campaign',
        figure: 'Service CPU time while sending (all its threads)',
        measured: `${fmt(cpuS, 1)} s in ${fmt(sendingS, 0)} s (${fmt((100 * cpuS) / sendingS, 0)} % of one core)`,
        target: '—',
        verdict: 'INFO',
        value: cpuS,
      },
      {
        part: 'campaign',
        figure: `campaign create over ${int(CONTACTS)} CRM contacts (read, consent, audience, estimate)`,
        measured: `${fmt(createS, 1)} s`,
        target: '—',
        verdict: 'INFO',
        value: createS,
      },
    ];
    printTable(rows);
    return rows.some((r) => r.verdict === 'FAIL') ? 1 : 0;
  } finally {
    await db.destroy();
    await cleanupAll();
  }
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    process.stderr.write(`bench:campaign failed: ${(err as Error).stack ?? err}\n`);
    await cleanupAll();
    process.exit(2);
  },
);
