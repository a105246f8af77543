import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import { type MtsEmulator, startMtsEmulator } from '../../src/emulators/mts/index.js';
import { type ServiceProcess, spawnService } from '../helpers/child.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { freePort, waitFor } from '../helpers/wait.js';

/**
 * The promise "nothing lost, nothing sent twice", tested the hard way: a real service process
 * is killed with SIGKILL twice while a few hundred messages are being accepted and sent,
 * then restarted on the same SQLite file.
 */
describe('kill -9 during sending (SQLite)', () => {
  const TOTAL = 300;
  let db: TestDb;
  let mts: MtsEmulator;
  let b24: Bitrix24Emulator;
  let env: Record<string, string>;
  let url: string;
  let proc: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDb('sqlite');
    // Latency keeps requests in flight at the moment of the kill: MTS has them, we do not know yet.
    mts = await startMtsEmulator({ latencyMs: [20, 120], dlr: { delayMs: 100 } });
    b24 = await startBitrix24Emulator();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATABASE_URL: db.url,
      MTS_API_URL: mts.url,
      MTS_CLIENT_ID: mts.clientId,
      MTS_LOGIN: mts.login,
      MTS_PASSWORD: mts.password,
      MTS_SENDER: 'SANDBOX',
      MTS_RATE_LIMIT: '60',
      MTS_TIMEOUT: '5',
      B24_CLIENT_ID: b24.clientId,
      B24_CLIENT_SECRET: b24.clientSecret,
      B24_OAUTH_URL: b24.url,
      B24_PUSH_DELAY_MS: '200',
      LOG_LEVEL: 'warn',
    };
    proc = await spawnService(env, url);
    expect(await b24.install(url)).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await proc?.stop();
    await Promise.allSettled([mts.close(), b24.close()]);
    await db.cleanup();
  });

  it('loses nothing and sends nothing twice across two SIGKILLs', async () => {
    const ids = Array.from({ length: TOTAL }, () => randomBytes(16).toString('hex'));
    const acked = new Set<string>();
    // Bitrix24 itself does not retry; this client does (same message_id), as an operator would.
    const sendAll = async () => {
      let next = 0;
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          for (;;) {
            const r = await b24
              .sendFromCard({
                to: `+37529${String(1000000 + ids.indexOf(id)).slice(-7)}`,
                text: `crash test ${id}`,
                messageId: id,
              })
              .catch(() => null);
            if (r?.status === 200) {
              acked.add(id);
              break;
            }
            await new Promise((res) => setTimeout(res, 100));
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    const sending = sendAll();

    for (const atSent of [60, 170]) {
      await waitFor(() => mts.sent.length >= atSent, `${atSent} messages at MTS`, 30_000, 5);
      await proc?.kill9();
      proc = await spawnService(env, url);
    }
    await sending;
    expect(acked.size).toBe(TOTAL);

    await waitFor(
      () => new Set(mts.sent.map((s) => s.extraId)).size >= TOTAL,
      `all ${TOTAL} messages at MTS`,
      60_000,
      100,
    );
    // Settle: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await db.conn.db
      .selectFrom('messages')
      .select(['id', 'b24_message_id', 'state'])
      .execute();
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r) => r.b24_message_id))).toEqual(new Set(ids));
    const counts = rows.map((r) => mts.countByExtraId(r.id));
    expect(counts.filter((c) => c !== 1)).toEqual([]);
    expect(mts.sent).toHaveLength(TOTAL);
    // The kills did catch sends in flight: their outcome was looked up by extra_id, not resent.
    expect(mts.requests.filter((r) => r.url.includes('/dr/external/')).length).toBeGreaterThan(0);
    // And every status reaches Bitrix24.
    await waitFor(
      () => ids.every((id) => b24.latestStatus(id) === 'delivered'),
      'all statuses delivered',
      30_000,
      200,
    );
  }, 120_000);
});
