/**
 * npm run bench:core — figures for the core path, measured as ratios within one run
 * (machines here are small and noisy):
 *  1. durable intake: handler POSTs/s and latency on SQLite (each one committed before the
 *     reply), next to a bare Fastify route that parses the same form and answers at once;
 *  2. MTS rate: achieved ÷ configured over N messages, and the worst 1 s window at the MTS
 *     emulator.
 * Options: --seconds 10  --connections 20  --messages 3000  --rate 100
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import qs from 'qs';
import { loadConfig } from '../src/config.js';
import { intakeSms } from '../src/core/intake.js';
import { startMtsEmulator } from '../src/emulators/mts/index.js';
import { createHttpApp } from '../src/http/app.js';
import { silentLogger } from '../src/log.js';
import { createService } from '../src/service.js';
import { connect, migrate } from '../src/store/index.js';
import { upsertPortal } from '../src/store/portals.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    messages: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '100' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const MESSAGES = Number(args.messages);
const RATE = Number(args.rate);

function formBody(): string {
  return qs.stringify({
    type: 'SMS',
    code: 'mts_sms_by',
    message_id: randomBytes(16).toString('hex'),
    message_to: '+375291234567',
    message_body: 'Ваш заказ №12345 готов к выдаче. Спасибо!',
    ts: Math.floor(Date.now() / 1000),
    module_id: 'crm',
    bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: 7 }],
  });
}

async function cannon(url: string): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [{ setupRequest: (req) => ({ ...req, body: formBody() }) }],
  });
}

function line(name: string, r: autocannon.Result): string {
  return `${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   non-2xx ${r.non2xx}   errors ${r.errors}`;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-bench-'));
  const mts = await startMtsEmulator({ dlr: { enabled: false } });
  try {
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`,
      PUBLIC_URL: 'http://127.0.0.1:1',
      MTS_API_URL: mts.url,
      MTS_CLIENT_ID: mts.clientId,
      MTS_LOGIN: mts.login,
      MTS_PASSWORD: mts.password,
      MTS_SENDER: 'SANDBOX',
      MTS_RATE_LIMIT: String(RATE),
      B24_CLIENT_ID: 'bench',
      B24_CLIENT_SECRET: 'bench',
      LOG_LEVEL: 'silent',
    };
    const config = loadConfig(env);
    const conn = connect(config.DATABASE_URL);
    await migrate(conn);
    const portal = await upsertPortal(
      conn,
      {
        id: 'bench',
        domain: 'bench.bitrix24.by',
        clientEndpoint: 'http://127.0.0.1:1/rest/',
        serverEndpoint: 'http://127.0.0.1:1/rest/',
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 3600_000,
        applicationToken: null,
      },
      Date.now(),
    );

    // 1. Intake: the real handler (workers off, so only intake is measured) vs a bare route.
    const service = await createService({ config, logger: silentLogger, conn });
    const real = await service.app.listen({ port: 0, host: '127.0.0.1' });
    const bare = createHttpApp({ bodyLimit: config.BODY_LIMIT, logger: silentLogger });
    bare.post('/bare', async (req) => ({ ok: true, n: Object.keys(req.body as object).length }));
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

    console.log(
      `durable intake on SQLite (synchronous=FULL), ${CONNECTIONS} connections, ${SECONDS} s each`,
    );
    const rBare = await cannon(`${bareUrl}/bare`);
    const rReal = await cannon(`${real}/b24/sms/${portal.handler_key}`);
    console.log(line('bare Fastify form route', rBare));
    console.log(line('handler (committed)', rReal));
    console.log(
      `ratio handler / bare: ${(rReal.requests.average / rBare.requests.average).toFixed(2)} (throughput), p99 ×${(rReal.latency.p99 / Math.max(1, rBare.latency.p99)).toFixed(1)}`,
    );
    await bare.close();
    await service.close();
    await conn.db.deleteFrom('messages').execute();

    // 2. MTS rate: N messages queued, one sender, measured at the MTS emulator.
    const now = Date.now();
    for (let i = 0; i < MESSAGES; i++) {
      await intakeSms(
        conn,
        {
          portalId: null,
          b24MessageId: null,
          source: 'cli',
          kind: 'transactional',
          to: '+375291234567',
          text: `rate ${i}`,
          alphaName: 'SANDBOX',
        },
        now,
      );
    }
    const sender = await createService({ config, logger: silentLogger, conn });
    mts.reset();
    const t0 = Date.now();
    sender.sender.start();
    while (mts.sent.length < MESSAGES) await new Promise((r) => setTimeout(r, 50));
    const elapsed = (Date.now() - t0) / 1000;
    await sender.close();
    const achieved = MESSAGES / elapsed;
    const worst = mts.maxRequestsInWindow(1000, (r) => r.kind === 'send');
    console.log(`\nMTS rate over ${MESSAGES} messages, MTS_RATE_LIMIT=${RATE}/s`);
    console.log(
      `achieved ${achieved.toFixed(1)}/s = ${(achieved / RATE).toFixed(3)} of configured; worst 1 s window ${worst} requests (limit ${RATE})`,
    );
    await conn.close();
  } finally {
    await mts.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
