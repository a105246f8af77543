import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backlogQueries, backlogSummary } from '../../src/store/backlog.js';
import { insertMessage, transition } from '../../src/store/outbox.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';
import { planOf, seedHistory } from '../helpers/plans.js';

const T0 = 1_800_000_000_000;
const HISTORY = 20_000;
/** The partial indexes of waiting work (migrations 0001 and 0007). */
const WAITING_INDEXES = ['messages_claim', 'messages_due', 'messages_held', 'messages_sending'];

for (const dialect of DIALECTS)
  describe(`backlogSummary on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
      await seedPortal(t.conn, 'member2', 'b.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    /** A waiting mix: transactional and marketing, due and later, held and sending. */
    async function seedWaiting(): Promise<void> {
      const marketing = { kind: 'marketing' as const, source: 'sender', priority: 1 };
      for (let i = 0; i < 5; i++) await insertMessage(t.conn, testMessage(), T0 - 60_000 + i);
      for (let i = 0; i < 7; i++)
        await insertMessage(t.conn, testMessage({ ...marketing, alphaName: 'PROMO' }), T0 + i);
      // Quiet hours: marketing that waits until 09:00.
      for (let i = 0; i < 4; i++)
        await insertMessage(
          t.conn,
          testMessage({ ...marketing, portalId: 'member2', sendAt: T0 + 3_600_000 }),
          T0,
        );
      for (let i = 0; i < 3; i++)
        await insertMessage(
          t.conn,
          testMessage({ ...marketing, campaignId: 'c1', contractId: 'portal:member2' }),
          T0,
        );
      const held = (
        await insertMessage(t.conn, testMessage({ ...marketing, alphaName: 'NOPE' }), T0)
      ).message;
      await transition(t.conn, held.id, 'queued', { state: 'held', hold_reason: 'refused' }, T0);
      const sending = (await insertMessage(t.conn, testMessage(), T0)).message;
      await transition(t.conn, sending.id, 'queued', { state: 'sending', locked_at: T0 }, T0);
    }

    it('counts the waiting work by contract and lane, portal, campaign and reason', async () => {
      await seedHistory(t.conn, 500, T0);
      await seedWaiting();
      const s = await backlogSummary(t.conn, T0 + 1000);
      expect(s.total).toBe(5 + 7 + 4 + 3 + 1 + 1);
      expect(s.oldestCreatedAt).toBe(T0 - 60_000);
      expect(s.lanes).toEqual([
        {
          contractId: 'default',
          priority: 0,
          due: 5,
          later: 0,
          held: 0,
          sending: 1,
          queuedByAlpha: { BRAND: 5 },
          oldestCreatedAt: T0 - 60_000,
        },
        {
          contractId: 'default',
          priority: 1,
          due: 7,
          later: 4,
          held: 1,
          sending: 0,
          queuedByAlpha: { PROMO: 7, BRAND: 4 },
          oldestCreatedAt: T0,
        },
        {
          contractId: 'portal:member2',
          priority: 1,
          due: 3,
          later: 0,
          held: 0,
          sending: 0,
          queuedByAlpha: { BRAND: 3 },
          oldestCreatedAt: T0,
        },
      ]);
      expect(s.portals).toEqual([
        { portalId: 'member1', waiting: 17, oldestCreatedAt: T0 - 60_000 },
        { portalId: 'member2', waiting: 4, oldestCreatedAt: T0 },
      ]);
      expect(s.campaigns).toEqual([{ campaignId: 'c1', waiting: 3 }]);
      expect(s.held).toEqual([
        { contractId: 'default', priority: 1, alphaName: 'NOPE', reason: 'refused', count: 1 },
      ]);
      expect(s.scheduled).toEqual([
        { contractId: 'default', priority: 1, at: T0 + 3_600_000, count: 4 },
      ]);
    });

    it('is empty on an empty queue, whatever the history', async () => {
      await seedHistory(t.conn, 300, T0);
      const s = await backlogSummary(t.conn, T0);
      expect(s).toEqual({
        at: T0,
        total: 0,
        oldestCreatedAt: null,
        lanes: [],
        portals: [],
        campaigns: [],
        held: [],
        scheduled: [],
      });
    });

    it(`reads only waiting rows through their partial indexes, never ${HISTORY} finished ones`, async () => {
      await seedHistory(t.conn, HISTORY, T0);
      await seedWaiting();
      const waiting = (await backlogSummary(t.conn, T0 + 1000)).total;
      for (const [name, q] of Object.entries(backlogQueries(t.conn, T0 + 1000))) {
        const plan = await planOf(t.conn, q);
        expect(plan.tableScan, `${name} scans the table`).toBe(false);
        expect(plan.indexes.length, `${name} uses an index`).toBeGreaterThan(0);
        for (const index of plan.indexes)
          expect(WAITING_INDEXES, `${name} reads ${index}`).toContain(index);
        if (plan.rowsRead !== undefined)
          expect(plan.rowsRead, `${name} rows read`).toBeLessThanOrEqual(waiting);
      }
    }, 60_000);
  });
