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

/** SIGTERM: the service stops taking work, finishes the sends in flight and exits 0. */
describe('graceful shutdown', () => {
  let db: TestDb;
  let mts: MtsEmulator;
  let b24: Bitrix24Emulator;
  let env: Record<string, string>;
  let url: string;
  let proc: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDb('sqlite');
    mts = await startMtsEmulator({ latencyMs: [300, 600], dlr: { delayMs: 50 } });
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
      MTS_RATE_LIMIT: '20',
      B24_CLIENT_ID: b24.clientId,
      B24_CLIENT_SECRET: b24.clientSecret,
      B24_OAUTH_URL: b24.url,
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

  it('finishes in-flight sends, leaves nothing claimed, and nothing needs a lookup afterwards', async () => {
    const ids = Array.from({ length: 60 }, () => randomBytes(16).toString('hex'));
    for (const [i, id] of ids.entries()) {
      expect(
        (
          await b24.sendFromCard({
            to: `+37529${3_000_000 + i}`,
            text: `shutdown ${i}`,
            messageId: id,
          })
        ).status,
      ).toBe(200);
    }
    await waitFor(
      () => mts.requests.filter((r) => r.kind === 'send').length >= 10,
      'sends under way',
    );
    const exit = await proc?.stop();
    expect(exit).toBe(0);
    const rows = await db.conn.db
      .selectFrom('messages')
      .select(['id', 'state', 'unsure'])
      .execute();
    expect(rows.filter((r) => r.state === 'sending')).toEqual([]);
    expect(rows.filter((r) => r.unsure)).toEqual([]);
    // Every send MTS received was recorded before the exit.
    const accepted = rows.filter((r) => r.state !== 'queued').map((r) => r.id);
    expect(new Set(mts.sent.map((s) => s.extraId))).toEqual(new Set(accepted));
    expect(accepted.length).toBeLessThan(60);

    proc = await spawnService(env, url);
    await waitFor(() => mts.sent.length === 60, 'the rest after the restart', 30_000);
    expect(new Set(mts.sent.map((s) => s.extraId)).size).toBe(60);
    expect(mts.requests.filter((r) => r.url.includes('/dr/external/'))).toEqual([]);
  }, 90_000);
});
