import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createService } from '../../src/service.js';
import { connect } from '../../src/store/index.js';
import { pgAvailable } from '../helpers/db.js';
import { startHarness } from '../helpers/harness.js';
import { freePort, waitFor } from '../helpers/wait.js';

/**
 * MTS_RATE_LIMIT holds for all instances together: two services on one PostgreSQL send 120
 * messages, and no sliding 1 s window at the MTS emulator holds more than the limit.
 */
describe.runIf(pgAvailable)('MTS rate limit across two instances on PostgreSQL', () => {
  it('never exceeds MTS_RATE_LIMIT in any 1 s window, and both instances send', async () => {
    const RATE = 20;
    const TOTAL = 120;
    const a = await startHarness({
      dialect: 'postgres',
      workers: false,
      env: { MTS_RATE_LIMIT: String(RATE) },
    });
    const port = await freePort();
    const connB = connect(a.env.DATABASE_URL as string);
    const b = await createService({
      config: loadConfig({ ...a.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }),
      logger: silentLogger,
      conn: connB,
    });
    await b.app.listen({ port, host: '127.0.0.1' });
    try {
      const handler = String(a.b24.senders.find((s) => s.CODE === 'mts_sms_by')?.HANDLER);
      const handlerB = handler.replace(a.url, `http://127.0.0.1:${port}`);
      for (let i = 0; i < TOTAL; i++) {
        const r = await a.b24.sendFromCard({
          to: `+37529${1_000_000 + i}`,
          text: `rate ${i}`,
          handlerUrl: i % 2 ? handlerB : handler,
        });
        expect(r.status).toBe(200);
      }
      a.service.startWorkers();
      b.startWorkers();
      await waitFor(() => a.mts.sent.length >= TOTAL, 'all messages at MTS', 30_000);

      const sends = (r: { kind: string }) => r.kind === 'send';
      expect(a.mts.maxRequestsInWindow(1000, sends)).toBeLessThanOrEqual(RATE);
      const byA =
        (await a.service.metrics.sends.get()).values.find((v) => v.labels.outcome === 'accepted')
          ?.value ?? 0;
      const byB =
        (await b.metrics.sends.get()).values.find((v) => v.labels.outcome === 'accepted')?.value ??
        0;
      expect(byA + byB).toBe(TOTAL);
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
    } finally {
      await b.close();
      await connB.close();
      await a.close();
    }
  }, 60_000);
});
