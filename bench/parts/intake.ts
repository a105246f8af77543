/**
 * 3. Durable intake. One process (bench/child/intakeServer.ts: the service built by
 * createService, workers off) serves both the real handler POST /b24/sms/:key — which
 * commits each message before answering — and a bare route that parses the same form and
 * answers at once. autocannon loads each in turn with identical Bitrix24-style bodies (a new
 * message_id every request), alternating for --intake-rounds rounds after a warm-up.
 * Figure = mean handler req/s ÷ mean bare req/s; target ≥ 0.5.
 */
import autocannon from 'autocannon';
import { createBenchDb } from '../lib/database.js';
import type { BenchContext, Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { freePort, type ServiceProcess, spawnService } from '../lib/serviceProcess.js';
import { installPortal, serviceEnv } from '../lib/stack.js';
import { FORM_HEADERS, handlerForm, newB24MessageId } from '../lib/traffic.js';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** autocannon against `url` with a fresh Bitrix24 form body per request. */
export async function cannon(
  url: string,
  body: () => string,
  o: { seconds: number; connections: number; overallRate?: number },
): Promise<Load> {
  const r = await autocannon({
    url,
    method: 'POST',
    connections: o.connections,
    duration: o.seconds,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    headers: FORM_HEADERS,
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function run(ctx: BenchContext): Promise<Row[]> {
  const { emu, opts } = ctx;
  const seconds = opts.n['intake-seconds'];
  const connections = opts.n['intake-connections'];
  const db = await createBenchDb(opts.db);
  let svc: ServiceProcess | undefined;
  try {
    const env = serviceEnv(emu.info, db, await freePort());
    svc = await spawnService(
      'intake-bench',
      'bench/child/intakeServer.ts',
      [],
      env,
      env.PUBLIC_URL as string,
    );
    const handlerUrl = svc.url + (await installPortal(emu, svc.url));
    const bareUrl = `${svc.url}/bench/bare`;
    const auth = await emu.call('authFields', null);
    let i = 0;
    const body = () => handlerForm(i++, newB24MessageId(), auth);
    await cannon(bareUrl, body, { seconds: 2, connections });
    await cannon(handlerUrl, body, { seconds: 2, connections });
    const bare: Load[] = [];
    const real: Load[] = [];
    for (let round = 0; round < opts.n['intake-rounds']; round++) {
      bare.push(await cannon(bareUrl, body, { seconds, connections }));
      real.push(await cannon(handlerUrl, body, { seconds, connections }));
      note(
        `  round ${round + 1}: bare ${int(bare[round]?.rps ?? 0)} req/s (p99 ${bare[round]?.p99} ms), handler ${int(real[round]?.rps ?? 0)} req/s (p99 ${real[round]?.p99} ms)`,
      );
    }
    const bareRps = mean(bare.map((b) => b.rps));
    const realRps = mean(real.map((b) => b.rps));
    const ratio = realRps / bareRps;
    const bad = real.reduce((a, r) => a + r.non2xx + r.errors, 0);
    return [
      {
        part: 'intake',
        figure: `Durable intake ÷ bare Fastify route (${db.dialect})`,
        measured: `${fmt(ratio, 2)} (${int(realRps)} vs ${int(bareRps)} req/s; p99 ${Math.max(...real.map((r) => r.p99))} vs ${Math.max(...bare.map((r) => r.p99))} ms${bad ? `; ${bad} non-2xx/errors` : ''})`,
        target: '≥ 0.5',
        verdict: judge(ratio >= 0.5 && bad === 0),
        value: ratio,
      },
    ];
  } finally {
    await svc?.stop();
    await db.destroy();
  }
}

export const intakePart: Part = {
  name: 'intake',
  title: 'Durable intake against a bare route',
  run(ctx) {
    note(
      `intake: autocannon ${ctx.opts.n['intake-connections']} connections, ${ctx.opts.n['intake-rounds']} × ${ctx.opts.n['intake-seconds']} s per route on ${ctx.opts.db}`,
    );
    return run(ctx);
  },
};
