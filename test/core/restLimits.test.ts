import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { bucketOverrides, restLimits } from '../../src/core/restLimits.js';
import { updatePortalSettings } from '../../src/store/index.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb } from '../helpers/db.js';

const defaults = { rate: 2, burst: 50 };
const portal = (id: string, settings: Record<string, unknown>) => ({
  id,
  settings: JSON.stringify(settings),
});

describe('Bitrix24 REST limits', () => {
  it("only portals with limits of their own are overridden; a missing one is the default's", () => {
    expect(
      bucketOverrides(
        [
          portal('plain', {}),
          portal('fast', { restRate: 5, restBurst: 250 }),
          portal('burst', { restBurst: 100 }),
        ],
        defaults,
      ),
    ).toEqual({ fast: { rate: 5, burst: 250 }, burst: { rate: 2, burst: 100 } });
  });

  for (const dialect of DIALECTS)
    describe(`on ${dialect}`, () => {
      let t: TestDb;
      afterEach(() => t.cleanup());

      it('reads the overrides; the budget is shared in the database only with several instances', async () => {
        t = await createTestDb(dialect);
        await seedPortal(t.conn, 'm1', 'a.bitrix24.by');
        await updatePortalSettings(t.conn, 'm1', { restRate: 5 }, Date.now());
        const limits = await restLimits(t.conn, systemClock, defaults);
        expect(limits).toMatchObject({
          ...defaults,
          bucketOverrides: { m1: { rate: 5, burst: 50 } },
        });
        expect(Boolean(limits.sharedBudget)).toBe(t.conn.caps.multiInstance);
        if (limits.sharedBudget) {
          // A fresh bucket: the first request goes at once.
          expect(await limits.sharedBudget.take('m1', { rate: 5, burst: 50 })).toBe(0);
        }
      });
    });
});
