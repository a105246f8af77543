import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { estimateDuration } from '../../src/core/campaigns/campaigns.js';
import type { SenderChoice } from '../../src/core/intake.js';
import { parseQuietHours } from '../../src/domain/quietHours.js';
import { silentLogger } from '../../src/log.js';
import {
  addCampaignFed,
  campaignProgress,
  campaignRecipients,
  createCampaign,
  getCampaign,
  inTransaction,
  moveCampaign,
  type NewRecipient,
  withdrawCampaignMessages,
} from '../../src/store/index.js';
import { makeCampaignFeeder } from '../../src/workers/campaignFeeder.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb } from '../helpers/db.js';

const recipient = (i: number, over: Partial<NewRecipient> = {}): NewRecipient => ({
  phone: `+37529${String(5_000_000 + i)}`,
  phoneRaw: `8029${String(5_000_000 + i)}`,
  entityType: 'contact',
  entityId: i + 1,
  text: `Hello ${i}`,
  parts: 1,
  excluded: null,
  detail: null,
  ...over,
});

for (const dialect of DIALECTS)
  describe(`campaigns in the store on ${dialect}`, () => {
    let t: TestDb;
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 9, 0, 0));
    // 10 messages per second on the default contract, no quiet hours.
    const choice: SenderChoice = {
      alphaName: 'SHOPMKT',
      quietHours: null,
      route: { contractId: 'default', vtStepMs: 100 },
      maxParts: 5,
    };
    const feeder = () =>
      makeCampaignFeeder({
        conn: t.conn,
        clock,
        logger: silentLogger,
        holder: 'test',
        senderFor: async () => choice,
        maxParts: 5,
      });
    const signal = new AbortController().signal;

    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    const create = (n: number, excludedEvery = 0) =>
      createCampaign(
        t.conn,
        {
          portalId: 'member1',
          name: 'Sale',
          template: 'Hello #NAME#',
          source: 'crm:contact',
          sourceDetail: null,
          alphaName: 'SHOPMKT',
          sendAt: null,
          timeline: true,
          recipients: Array.from({ length: n }, (_, i) =>
            excludedEvery && i % excludedEvery === 0
              ? recipient(i, { excluded: 'no_consent', text: null, detail: 'no' })
              : recipient(i),
          ),
          parts: n,
          cost: null,
          durationS: n / 10,
        },
        clock.now(),
      );

    it('stores the audience with its exclusions, in order', async () => {
      const c = await create(1200, 10);
      expect(c.state).toBe('draft');
      expect(c.recipients).toBe(1080);
      expect(JSON.parse(c.excluded)).toMatchObject({ no_consent: 120, duplicate: 0 });
      const rows = await campaignRecipients(t.conn, c.id);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
      expect(rows.filter((r) => r.state === 'excluded')).toHaveLength(120);
    });

    it('feeds a few seconds of sending at a time, as marketing with the campaign id and the record bound', async () => {
      const c = await create(100);
      const f = feeder();
      expect(await f.tick(signal)).toBe(0); // a draft is not fed
      await moveCampaign(t.conn, c.id, ['draft'], 'running', clock.now());
      // 10/s × 3 s of window = 30 messages.
      expect(await f.tick(signal)).toBe(30);
      expect(await f.tick(signal)).toBe(0);
      const msgs = await t.conn.db
        .selectFrom('messages')
        .selectAll()
        .where('campaign_id', '=', String(c.id))
        .orderBy('vt')
        .execute();
      expect(msgs).toHaveLength(30);
      expect(msgs[0]).toMatchObject({
        kind: 'marketing',
        priority: 1,
        source: 'campaign',
        state: 'queued',
        alpha_name: 'SHOPMKT',
        phone: '+375295000000',
        text: 'Hello 0',
        bindings: JSON.stringify([{ OWNER_TYPE_ID: '3', OWNER_ID: '1' }]),
      });
      const rec = await campaignRecipients(t.conn, c.id);
      const fed = rec.filter((r) => r.state === 'fed');
      expect(fed.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(fed.map((r) => r.message_id))).toEqual(new Set(msgs.map((m) => m.id)));
      expect((await getCampaign(t.conn, c.id))?.fed).toBe(30);
    });

    it('pause takes back what never left; an attempted message stays; resume feeds the rest once', async () => {
      const c = await create(50);
      await moveCampaign(t.conn, c.id, ['draft'], 'running', clock.now());
      const f = feeder();
      await f.tick(signal);
      // One message was attempted (it may be at MTS): it must not be taken back.
      const first = (await campaignRecipients(t.conn, c.id))[0];
      await t.conn.db
        .updateTable('messages')
        .set({ attempts: 1, unsure: 1 })
        .where('id', '=', first?.message_id as string)
        .execute();
      const withdrawn = await inTransaction(t.conn, async (tx) => {
        await moveCampaign(tx, c.id, ['running'], 'paused', clock.now());
        return withdrawCampaignMessages(tx, c.id, 'pending', clock.now());
      });
      expect(withdrawn).toBe(29);
      expect(await f.tick(signal)).toBe(0); // paused: nothing fed
      let rec = await campaignRecipients(t.conn, c.id);
      expect(rec.filter((r) => r.state === 'fed').map((r) => r.seq)).toEqual([1]);
      expect((await getCampaign(t.conn, c.id))?.fed).toBe(1);

      await moveCampaign(t.conn, c.id, ['paused'], 'running', clock.now());
      while ((await f.tick(signal)) > 0) {
        // The sender would send them; here they are marked sent so the window frees up.
        await t.conn.db
          .updateTable('messages')
          .set({ state: 'DELIVRD', b24_status: 'delivered' })
          .where('campaign_id', '=', String(c.id))
          .where('state', '=', 'queued')
          .execute();
      }
      rec = await campaignRecipients(t.conn, c.id);
      expect(rec.every((r) => r.state === 'fed')).toBe(true);
      const ids = rec.map((r) => r.message_id);
      expect(new Set(ids).size).toBe(50);
      const perPhone = await t.conn.db
        .selectFrom('messages')
        .select(['phone', (eb) => eb.fn.countAll<number>().as('n')])
        .where('campaign_id', '=', String(c.id))
        .groupBy('phone')
        .execute();
      expect(perPhone).toHaveLength(50);
      expect(perPhone.every((p) => Number(p.n) === 1)).toBe(true);
    });

    it('becomes done when every recipient was sent; cancel cancels what is left', async () => {
      const a = await create(5);
      await moveCampaign(t.conn, a.id, ['draft'], 'running', clock.now());
      const f = feeder();
      expect(await f.tick(signal)).toBe(5);
      await f.tick(signal);
      expect((await getCampaign(t.conn, a.id))?.state).toBe('running'); // still in the outbox
      await t.conn.db
        .updateTable('messages')
        .set({ state: 'DELIVRD', b24_status: 'delivered' })
        .where('campaign_id', '=', String(a.id))
        .execute();
      await f.tick(signal);
      expect((await getCampaign(t.conn, a.id))?.state).toBe('done');
      expect(await campaignProgress(t.conn, a.id)).toEqual({
        recipients: { pending: 0, fed: 5, excluded: 0, cancelled: 0 },
        messages: { delivered: 5 },
      });

      const b = await create(40);
      await moveCampaign(t.conn, b.id, ['draft'], 'running', clock.now());
      await f.tick(signal);
      await inTransaction(t.conn, async (tx) => {
        await moveCampaign(tx, b.id, ['running'], 'cancelled', clock.now());
        await withdrawCampaignMessages(tx, b.id, 'cancelled', clock.now());
      });
      expect(await campaignProgress(t.conn, b.id)).toEqual({
        recipients: { pending: 0, fed: 0, excluded: 0, cancelled: 40 },
        messages: {},
      });
      expect(await f.tick(signal)).toBe(0);
    });

    it('the feed transaction counts itself in only while the campaign runs', async () => {
      const c = await create(20);
      await moveCampaign(t.conn, c.id, ['draft'], 'running', clock.now());
      expect(await addCampaignFed(t.conn, c.id, 2, clock.now(), { whileRunning: true })).toBe(true);
      await moveCampaign(t.conn, c.id, ['running'], 'paused', clock.now());
      // A feed that read "running" before the pause committed finds the row changed: no feed.
      expect(await addCampaignFed(t.conn, c.id, 2, clock.now(), { whileRunning: true })).toBe(
        false,
      );
      expect((await getCampaign(t.conn, c.id))?.fed).toBe(2);
      expect(await feeder().tick(signal)).toBe(0);
    });
  });

describe('campaign duration estimate', () => {
  it('is messages ÷ rate outside quiet hours, and waits quiet hours out', () => {
    const morning = Date.UTC(2026, 11, 1, 7, 0, 0); // 10:00 in Minsk
    expect(estimateDuration(1000, 10, morning, null)).toBe(100);
    const quiet = parseQuietHours('21:00-09:00');
    expect(estimateDuration(1000, 10, morning, quiet)).toBe(100);
    // Starting at 20:50 Minsk: 10 minutes of sending (6,000), then the night, then the rest.
    const evening = Date.UTC(2026, 11, 1, 17, 50, 0);
    const d = estimateDuration(7000, 10, evening, quiet);
    expect(d).toBe(600 + 12 * 3600 + 100);
  });
});
