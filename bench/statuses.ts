/**
 * npm run bench:statuses — the status path, measured in one run:
 *  1. DLRs/s accepted at /mts/dlr/:key (each committed before the 200) with p50/p99 latency;
 *  2. REST requests to Bitrix24 per pushed status (batches of 50 under a 2 req/s bucket);
 *  3. seconds from the DLR to the status arriving in the Bitrix24 emulator, p50/p99.
 * Options: --messages 5000  --connections 20  --db sqlite|postgres
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { intakeSms } from '../src/core/intake.js';
import { startBitrix24Emulator } from '../src/emulators/bitrix24/index.js';
import { silentLogger } from '../src/log.js';
import { createService } from '../src/service.js';
import { connect, migrate } from '../src/store/index.js';
import { listPortals } from '../src/store/portals.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '20' },
    db: { type: 'string', default: 'sqlite' },
  },
});
const N = Number(args.messages);
const CONNECTIONS = Number(args.connections);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-bench-'));
  const b24 = await startBitrix24Emulator();
  const port = 30000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const dbUrl =
    args.db === 'postgres'
      ? `postgres://postgres@127.0.0.1:5432/test?schema=bench_${randomBytes(4).toString('hex')}`
      : `sqlite:${join(dir, 'bench.sqlite')}`;
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    DATABASE_URL: dbUrl,
    MTS_API_URL: 'http://127.0.0.1:1',
    MTS_CLIENT_ID: '1',
    MTS_LOGIN: 'x',
    MTS_PASSWORD: 'x',
    MTS_SENDER: 'SANDBOX',
    B24_CLIENT_ID: b24.clientId,
    B24_CLIENT_SECRET: b24.clientSecret,
    B24_OAUTH_URL: b24.url,
    LOG_LEVEL: 'silent',
  });
  const conn = connect(config.DATABASE_URL);
  await migrate(conn);
  const service = await createService({ config, logger: silentLogger, conn });
  await service.app.listen({ port, host: '127.0.0.1' });
  try {
    await b24.install(url);
    const portal = (await listPortals(conn))[0];
    if (!portal) throw new Error('install failed');

    // N messages already accepted by MTS, known to the portal.
    const now = Date.now();
    const msgs: { id: string; mtsId: string; b24Id: string }[] = [];
    for (let i = 0; i < N; i++) {
      const b24Id = randomBytes(16).toString('hex');
      b24.registerMessage('mts_sms_by', b24Id);
      const { message } = await intakeSms(
        conn,
        {
          portalId: portal.id,
          b24MessageId: b24Id,
          source: 'crm',
          kind: 'transactional',
          to: `+37529${1_000_000 + i}`,
          text: `bench ${i}`,
          alphaName: 'SANDBOX',
        },
        now,
      );
      msgs.push({ id: message.id, mtsId: randomUUID(), b24Id });
    }
    for (const m of msgs) {
      await conn.db
        .updateTable('messages')
        .set({
          state: 'ACCEPTD',
          mts_message_id: m.mtsId,
          accepted_at: now,
          b24_status: 'sent',
          b24_pushed_status: 'sent',
        })
        .where('id', '=', m.id)
        .execute();
    }
    const restBefore = b24.restRequests.total;
    service.startWorkers();

    // 1. DLRs, CONNECTIONS at a time.
    const dlrUrl = `${url}/mts/dlr/${portal.dlr_key}`;
    const postedAt = new Map<string, number>();
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < msgs.length) {
          const m = msgs[next++];
          if (!m) break;
          const body = JSON.stringify({
            number: 375291234567,
            time: Date.now(),
            status: 2,
            substatus: 23,
            hyber_status: 23011,
            message_id: m.mtsId,
            extra_id: m.id,
            sent_via: 'sms',
            total_sms_parts: 1,
            delivered_sms_parts: 1,
          });
          const s = performance.now();
          postedAt.set(m.b24Id, Date.now());
          const res = await fetch(dlrUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`DLR answered ${res.status}`);
          latencies.push(performance.now() - s);
        }
      }),
    );
    const dlrSeconds = (performance.now() - t0) / 1000;
    console.log(
      `DLR intake on ${args.db}: ${N} reports in ${dlrSeconds.toFixed(1)} s = ${(N / dlrSeconds).toFixed(0)}/s, p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms (${CONNECTIONS} connections)`,
    );

    // 2 + 3. Wait for every status in the Bitrix24 emulator.
    const arrivedAt = new Map<string, number>();
    const deadline = Date.now() + 10 * 60_000;
    while (arrivedAt.size < N && Date.now() < deadline) {
      for (const u of b24.statusUpdates)
        if (u.status === 'delivered' && !arrivedAt.has(u.messageId))
          arrivedAt.set(u.messageId, u.at);
      await new Promise((r) => setTimeout(r, 200));
    }
    const rest = b24.restRequests.total - restBefore;
    const delays = msgs.map(
      (m) => ((arrivedAt.get(m.b24Id) ?? Number.NaN) - (postedAt.get(m.b24Id) ?? 0)) / 1000,
    );
    console.log(
      `status push: ${arrivedAt.size}/${N} statuses in ${rest} REST requests = ${(rest / N).toFixed(3)} requests per status (bucket 2/s, burst 50)`,
    );
    console.log(
      `DLR → status in Bitrix24: p50 ${pct(delays, 50).toFixed(1)} s, p99 ${pct(delays, 99).toFixed(1)} s (floor: ${N} statuses / 50 per batch / 2 req/s after the burst)`,
    );
  } finally {
    await service.close();
    await conn.close();
    await b24.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
