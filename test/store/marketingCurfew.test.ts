import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { SenderChoice } from '../../src/core/intake.js';
import { parseQuietHours } from '../../src/domain/quietHours.js';
import { silentLogger } from '../../src/log.js';
import { getMessage, insertMessage } from '../../src/store/index.js';
import { makeMarketingCurfew } from '../../src/workers/marketingCurfew.js';
import {
  createTestDb,
  DIALECTS,
  testMessage as msg,
  seedPortal,
  type TestDb,
} from '../helpers/db.js';

const MINSK = 3 * 3600_000;

for (const dialect of DIALECTS)
  describe(`marketing quiet hours at send time on ${dialect}`, () => {
    let t: TestDb;
    // 20:59:58 in Minsk.
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 20, 59, 58) - MINSK);
    const quiet = parseQuietHours('21:00-09:00');
    const choice = (q: typeof quiet): SenderChoice => ({
      alphaName: 'MKT',
      quietHours: q,
      route: { contractId: 'default', vtStepMs: 100 },
      maxParts: 5,
    });
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'p1', 'a.bitrix24.by');
      await seedPortal(t.conn, 'p2', 'b.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    it('holds marketing still waiting when the window begins until it ends; transactional and other portals untouched', async () => {
      const now = clock.now();
      const add = async (portalId: string, kind: 'marketing' | 'transactional') =>
        (await insertMessage(t.conn, msg({ portalId, kind }), now - 60_000)).message.id;
      const mkt = [await add('p1', 'marketing'), await add('p1', 'marketing')];
      const tx = await add('p1', 'transactional');
      const other = await add('p2', 'marketing');
      const curfew = makeMarketingCurfew({
        conn: t.conn,
        clock,
        logger: silentLogger,
        holder: 'test',
        // p2 has no quiet hours of its own.
        senderFor: async (portal) =>
          choice((typeof portal === 'string' ? portal : portal?.id) === 'p2' ? null : quiet),
      });
      // 2 s before the window, one pass (5 s) ahead: applied now.
      expect(await curfew.tick()).toBe(2);
      const nineAm = Date.UTC(2026, 11, 2, 9, 0, 0) - MINSK;
      for (const id of mkt) expect((await getMessage(t.conn, id))?.run_at).toBe(nineAm);
      expect((await getMessage(t.conn, tx))?.run_at).toBe(now - 60_000);
      expect((await getMessage(t.conn, other))?.run_at).toBe(now - 60_000);
      // Nothing left to move: the next pass finds nothing (and writes nothing).
      expect(await curfew.tick()).toBe(0);
    });

    it('does nothing outside quiet hours', async () => {
      const morning = new FakeClock(Date.UTC(2026, 11, 1, 10, 0, 0) - MINSK);
      const { message } = await insertMessage(
        t.conn,
        msg({ portalId: 'p1', kind: 'marketing' }),
        morning.now(),
      );
      const curfew = makeMarketingCurfew({
        conn: t.conn,
        clock: morning,
        logger: silentLogger,
        holder: 'test',
        senderFor: async () => choice(quiet),
      });
      expect(await curfew.tick()).toBe(0);
      expect((await getMessage(t.conn, message.id))?.run_at).toBe(morning.now());
    });
  });
