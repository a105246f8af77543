import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { addEvent } from '../../src/store/events.js';
import { insertMessage } from '../../src/store/outbox.js';
import { saveReport } from '../../src/store/reports.js';
import { makeRetention } from '../../src/workers/retention.js';
import {
  createTestDb,
  DIALECTS,
  testMessage as msg,
  seedPortal,
  type TestDb,
} from '../helpers/db.js';

const DAY = 86_400_000;

for (const dialect of DIALECTS)
  describe(`retention on ${dialect}`, () => {
    let t: TestDb;
    const clock = new FakeClock(Date.UTC(2026, 11, 1));
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    it('deletes final messages past RETENTION_DAYS in batches, keeps everything else', async () => {
      const now = clock.now();
      const ids = {
        old: [] as string[],
        recent: [] as string[],
        waiting: [] as string[],
        unpushed: [] as string[],
      };
      const add = async (group: keyof typeof ids, finalAgo: number | null, pushPending = 0) => {
        const { message } = await insertMessage(t.conn, msg(), now - 200 * DAY);
        await t.conn.db
          .updateTable('messages')
          .set({
            state: finalAgo === null ? 'queued' : 'DELIVRD',
            final_at: finalAgo === null ? null : now - finalAgo,
            push_pending: pushPending,
          })
          .where('id', '=', message.id)
          .execute();
        await saveReport(
          t.conn,
          { messageId: message.id, mtsMessageId: 'x', source: 'dlr', body: {} },
          now - 200 * DAY,
        );
        await addEvent(t.conn, {
          messageId: message.id,
          kind: 'accept',
          at: now - 200 * DAY,
          detail: {},
        });
        ids[group].push(message.id);
      };
      for (let i = 0; i < 23; i++) await add('old', 181 * DAY);
      for (let i = 0; i < 3; i++) await add('recent', 10 * DAY);
      for (let i = 0; i < 3; i++) await add('waiting', null);
      // Final but its status has not reached Bitrix24 yet: not history yet.
      await add('unpushed', 181 * DAY, 1);

      const deleted: number[] = [];
      const r = makeRetention({
        conn: t.conn,
        clock,
        logger: silentLogger,
        holder: 'test',
        days: 180,
        batch: 10,
        onDeleted: (n) => deleted.push(n),
      });
      expect(await r.tick()).toBe(23);
      expect(deleted).toEqual([10, 10, 3]);
      const left = (await t.conn.db.selectFrom('messages').select('id').execute()).map((m) => m.id);
      expect(left.sort()).toEqual(
        [...ids.recent, ...ids.waiting, ...ids.unpushed].sort() as string[],
      );
      const reports = await t.conn.db.selectFrom('delivery_reports').select('message_id').execute();
      expect(reports.map((x) => x.message_id).sort()).toEqual(left.sort());
      const events = await t.conn.db.selectFrom('message_events').select('message_id').execute();
      expect(events.map((x) => x.message_id).sort()).toEqual(left.sort());
      // A second pass finds nothing.
      expect(await r.tick()).toBe(0);
    });
  });
