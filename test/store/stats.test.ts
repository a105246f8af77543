import { CompiledQuery } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { minskDayNumber } from '../../src/domain/minskTime.js';
import { migrate } from '../../src/store/index.js';
import { insertMessage, transition } from '../../src/store/outbox.js';
import { deleteFinalBefore } from '../../src/store/retention.js';
import {
  deliveryStats,
  foldStatsDeltas,
  type StatsCell,
  statsCells,
} from '../../src/store/stats.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';

const T0 = 1_800_000_000_000;
const DAY = 86_400_000;
const D0 = minskDayNumber(T0);

/** The cells as `type/alpha day: total submitted delivered undelivered failed`, sorted. */
function brief(cells: StatsCell[]): string[] {
  return cells
    .map(
      (c) =>
        `${c.type}/${c.alphaName}${c.campaignId ? `/${c.campaignId}` : ''} ${c.day - D0}: ${c.total} ${c.submitted} ${c.delivered} ${c.undelivered} ${c.failed}`,
    )
    .sort();
}

async function deltaCount(t: TestDb): Promise<number> {
  const r = await t.conn.db
    .selectFrom('stats_deltas')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

for (const dialect of DIALECTS)
  describe(`pre-aggregated delivery figures on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    const range = { fromDay: D0 - 1, toDay: D0 + 1 };

    it('counts each message once as it moves, the same before and after folding', async () => {
      const card = await insertMessage(t.conn, testMessage(), T0);
      const mkt = await insertMessage(
        t.conn,
        testMessage({ source: 'sender', kind: 'marketing', alphaName: 'PROMO' }),
        T0 + 1,
      );
      await insertMessage(t.conn, testMessage({ failReason: 'invalid phone' }), T0 + 2);
      const next = T0 + DAY; // the next Minsk day
      await insertMessage(t.conn, testMessage({ source: 'cli', portalId: null }), next);

      const expected0 = [
        'card/BRAND 0: 2 0 0 0 1',
        'marketing/PROMO 0: 1 0 0 0 0',
        `test/BRAND ${minskDayNumber(next) - D0}: 1 0 0 0 0`,
      ];
      expect(brief(await statsCells(t.conn, range))).toEqual(expected0);

      // Accepted by MTS, then delivered; the marketing one accepted, then undelivered.
      const id = card.message.id;
      await transition(t.conn, id, 'queued', { b24_status: 'sent', accepted_at: T0 + 10 }, T0);
      await transition(t.conn, id, 'queued', { state: 'DELIVRD', b24_status: 'delivered' }, T0);
      // An update that changes neither the status nor the acceptance adds nothing.
      await transition(t.conn, id, 'DELIVRD', { polls: 3 }, T0);
      const mid = mkt.message.id;
      await transition(t.conn, mid, 'queued', { b24_status: 'sent', accepted_at: T0 + 10 }, T0);
      const expected1 = [
        'card/BRAND 0: 2 1 1 0 1',
        'marketing/PROMO 0: 1 1 0 0 0',
        `test/BRAND ${minskDayNumber(next) - D0}: 1 0 0 0 0`,
      ];
      expect(brief(await statsCells(t.conn, range))).toEqual(expected1);
      expect(await deltaCount(t)).toBe(7);

      expect(await foldStatsDeltas(t.conn)).toBe(7);
      expect(await deltaCount(t)).toBe(0);
      expect(brief(await statsCells(t.conn, range))).toEqual(expected1);

      // A change after the fold: folded rows plus the new delta.
      await transition(t.conn, mid, 'queued', { state: 'EXPIRED', b24_status: 'undelivered' }, T0);
      const expected2 = [
        'card/BRAND 0: 2 1 1 0 1',
        'marketing/PROMO 0: 1 1 0 1 0',
        `test/BRAND ${minskDayNumber(next) - D0}: 1 0 0 0 0`,
      ];
      expect(brief(await statsCells(t.conn, range))).toEqual(expected2);
      await foldStatsDeltas(t.conn);
      expect(brief(await statsCells(t.conn, range))).toEqual(expected2);

      // One portal's figures leave out the messages of no portal; a day range leaves out the rest.
      expect(
        brief(await statsCells(t.conn, { ...range, portalId: 'member1' })).map((s) =>
          s.startsWith('test/'),
        ),
      ).toEqual([false, false]);
      expect(brief(await statsCells(t.conn, { fromDay: D0, toDay: D0 }))).toEqual(
        expected2.slice(0, 2),
      );
      const byType = await deliveryStats(t.conn, { ...range, by: 'type' });
      expect(byType.map((r) => [r.key, r.total])).toEqual([
        ['card', 2],
        ['marketing', 1],
        ['test', 1],
      ]);
    });

    it('keeps the figures when retention deletes the messages', async () => {
      const m = await insertMessage(t.conn, testMessage(), T0);
      await transition(
        t.conn,
        m.message.id,
        'queued',
        { state: 'DELIVRD', b24_status: 'delivered', accepted_at: T0, final_at: T0 },
        T0,
      );
      expect(await deleteFinalBefore(t.conn, T0 + DAY, 100)).toBe(1);
      expect(brief(await statsCells(t.conn, range))).toEqual(['card/BRAND 0: 1 1 1 0 0']);
      await foldStatsDeltas(t.conn);
      expect(brief(await statsCells(t.conn, range))).toEqual(['card/BRAND 0: 1 1 1 0 0']);
    });

    it('a message taken back before it was sent stops counting; a deleted final one still counts', async () => {
      const del = (id: string) =>
        t.conn.db.executeQuery(
          CompiledQuery.raw(
            `delete from messages where id = ${dialect === 'postgres' ? '$1' : '?'}`,
            [id],
          ),
        );
      const queued = await insertMessage(t.conn, testMessage({ campaignId: '7' }), T0);
      const sent = await insertMessage(t.conn, testMessage({ campaignId: '7' }), T0);
      await transition(
        t.conn,
        sent.message.id,
        'queued',
        { state: 'DELIVRD', b24_status: 'delivered', accepted_at: T0, final_at: T0 },
        T0,
      );
      expect(brief(await statsCells(t.conn, range))).toEqual(['campaign/BRAND/7 0: 2 1 1 0 0']);
      await foldStatsDeltas(t.conn);
      // A campaign pause withdraws the queued one (and a resume would feed it again).
      await del(queued.message.id);
      expect(brief(await statsCells(t.conn, range))).toEqual(['campaign/BRAND/7 0: 1 1 1 0 0']);
      await del(sent.message.id);
      await foldStatsDeltas(t.conn);
      expect(brief(await statsCells(t.conn, range))).toEqual(['campaign/BRAND/7 0: 1 1 1 0 0']);
    });

    it('loses and doubles nothing when folding runs while messages are written', async () => {
      const writes = (async () => {
        for (let i = 0; i < 150; i++) {
          const m = await insertMessage(t.conn, testMessage(), T0 + i);
          if (i % 3 === 0)
            await transition(t.conn, m.message.id, 'queued', { b24_status: 'failed' }, T0);
        }
      })();
      let folding = true;
      const folds = (async () => {
        let n = 0;
        while (folding) n += await foldStatsDeltas(t.conn, 7);
        return n;
      })();
      await writes;
      folding = false;
      await folds;
      await foldStatsDeltas(t.conn);
      expect(await deltaCount(t)).toBe(0);
      expect(brief(await statsCells(t.conn, range))).toEqual(['card/BRAND 0: 150 0 0 0 50']);
    });

    it('counts the messages stored before the figures existed, once (the upgrade)', async () => {
      for (let i = 0; i < 4; i++) {
        const m = await insertMessage(t.conn, testMessage({ alphaName: `A${i % 2}` }), T0 + i);
        if (i < 2)
          await transition(
            t.conn,
            m.message.id,
            'queued',
            { b24_status: 'delivered', accepted_at: T0 },
            T0,
          );
      }
      // Back to the schema before 0010_stats, with the messages kept (the migrations after it
      // are undone too: a new one that changes the schema is undone here as well).
      const raw = (q: string) => t.conn.db.executeQuery(CompiledQuery.raw(q, []));
      if (dialect === 'postgres') await raw('drop function messages_stats_withdrawn() cascade');
      else await raw('drop trigger messages_stats_withdrawn');
      await raw('alter table robot_jobs drop column request_id');
      await raw('alter table messages drop column request_id');
      await raw('alter table messages drop column provider_code');
      await raw('drop table phone_scan_chunks');
      await raw('drop table phone_scans');
      if (dialect === 'postgres') await raw('drop function messages_stats() cascade');
      else {
        await raw('drop trigger messages_stats_insert');
        await raw('drop trigger messages_stats_update');
      }
      await raw('drop table stats_days');
      await raw('drop table stats_deltas');
      await raw(`delete from kysely_migration where name >= '0010_stats'`);

      expect((await migrate(t.conn)).applied).toEqual([
        '0010_stats',
        '0011_provider_code',
        '0012_stats_withdrawn',
        '0013_phone_scans',
        '0014_request_id',
        '0015_robot_request_id',
      ]);
      expect(await deltaCount(t)).toBe(0);
      expect(brief(await statsCells(t.conn, range))).toEqual([
        'card/A0 0: 2 1 1 0 0',
        'card/A1 0: 2 1 1 0 0',
      ]);
      // And the trigger counts from now on.
      await insertMessage(t.conn, testMessage({ alphaName: 'A0' }), T0);
      expect(brief(await statsCells(t.conn, range))[0]).toBe('card/A0 0: 3 1 1 0 0');
    });
  });
