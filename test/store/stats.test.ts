import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertMessage } from '../../src/store/outbox.js';
import { deliveryStats, deliveryStatsQuery } from '../../src/store/stats.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';
import { planOf, seedHistory } from '../helpers/plans.js';

const T0 = 1_800_000_000_000;
const DAY = 86_400_000;

for (const dialect of DIALECTS)
  describe(`deliveryStats on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    it('reads the date range through the index on created_at, not the history around it', async () => {
      // 20,000 messages the day before; 3 in the range asked for.
      await seedHistory(t.conn, 20_000, T0);
      for (let i = 0; i < 3; i++) await insertMessage(t.conn, testMessage(), T0 + i);
      for (const by of ['day', 'type'] as const) {
        const q = { from: T0, to: T0 + DAY, by };
        const plan = await planOf(t.conn, deliveryStatsQuery(t.conn, q));
        expect(plan.tableScan, by).toBe(false);
        expect(plan.indexes, by).toEqual(['messages_created']);
        if (plan.rowsRead !== undefined) expect(plan.rowsRead, by).toBe(3);
        const rows = await deliveryStats(t.conn, q);
        expect(rows.reduce((n, r) => n + r.total, 0)).toBe(3);
      }
    }, 60_000);
  });
