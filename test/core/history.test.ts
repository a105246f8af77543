import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findMessages, messageHistory, SearchInputError } from '../../src/core/history.js';
import { makeMessageStates } from '../../src/core/messageState.js';
import { claimForSending } from '../../src/store/claims.js';
import { DEFAULT_CONTRACT } from '../../src/store/contracts.js';
import { eventsFor } from '../../src/store/events.js';
import { searchMessagesQuery } from '../../src/store/messageList.js';
import { insertMessage } from '../../src/store/outbox.js';
import { saveReport } from '../../src/store/reports.js';
import {
  createTestDb,
  DIALECTS,
  testMessage as msg,
  seedDefaultContract,
  seedPortal,
  type TestDb,
} from '../helpers/db.js';
import { planOf, seedHistory } from '../helpers/plans.js';

const T0 = 1_800_000_000_000;

for (const dialect of DIALECTS)
  describe(`message history on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
      await seedDefaultContract(t.conn, T0);
    });
    afterEach(() => t.cleanup());

    async function claimOne(worker: string, now: number) {
      const c = await claimForSending(t.conn, DEFAULT_CONTRACT, worker, now, () => ({
        max: 1,
        spacingUs: 1000,
      }));
      const m = c?.messages[0];
      if (!m) throw new Error(`nothing claimed at ${now - T0}`);
      return m;
    }

    it('each move of the sender is a step with its MTS answer; a move that lost its claim is none', async () => {
      const { message } = await insertMessage(
        t.conn,
        msg({ phone: '+375291234567', phoneRaw: '8 029 123-45-67' }),
        T0,
      );
      const states = makeMessageStates({ conn: t.conn, workerId: 'w1', pollAfterSec: 60 });
      let m = await claimOne('w1', T0 + 10);
      expect(
        await states.requeue(m, { runAt: T0 + 1000, error: 'MTS 5xx', unsure: true }, T0 + 20),
      ).toBe(true);
      m = await claimOne('w1', T0 + 1000);
      expect(await states.accept(m, 'mts-1', T0 + 1010)).toBe(true);
      // The claim is gone: nothing moves, nothing is recorded.
      expect(await states.fail(m, 'too late', null, T0 + 1020)).toBe(false);
      await saveReport(
        t.conn,
        {
          messageId: message.id,
          mtsMessageId: 'mts-1',
          source: 'dlr',
          body: {
            message_id: 'mts-1',
            number: 375291234567,
            status: 3,
            substatus: 36,
            msg_status: 36010,
          },
        },
        T0 + 2000,
      );

      expect(await eventsFor(t.conn, message.id)).toEqual([
        {
          messageId: message.id,
          kind: 'requeue',
          at: T0 + 20,
          detail: { attempt: 1, error: 'MTS 5xx', unsure: true, runAt: T0 + 1000 },
        },
        {
          messageId: message.id,
          kind: 'accept',
          at: T0 + 1010,
          detail: { attempt: 2, mtsMessageId: 'mts-1' },
        },
      ]);
      const h = await messageHistory(t.conn, message.id);
      expect(h?.message).toMatchObject({
        id: message.id,
        phone: '+375 29 ***-**-67',
        mtsMessageId: 'mts-1',
        parts: 1,
      });
      expect(h?.steps.map((s) => s.kind)).toEqual(['received', 'requeue', 'accept', 'report']);
      expect(h?.steps[3]?.detail).toMatchObject({
        source: 'dlr',
        state: 'UNDELIV',
        raw: { msg_status: 36010, number: '+375 29 ***-**-67' },
      });
      expect(String(h?.steps[3]?.detail.meaning)).toContain('36010');
      expect(JSON.stringify(h)).not.toContain('1234567');
      expect(await messageHistory(t.conn, 'no-such-id')).toBeUndefined();
    });

    it('finds a message by its number typed any way, and by date, Sender ID and state', async () => {
      const a = (await insertMessage(t.conn, msg({ phone: '+375291234567' }), T0)).message;
      await insertMessage(t.conn, msg({ phone: '+375297654321' }), T0 + 1);
      const b = (await insertMessage(t.conn, msg({ phone: '+375291234567' }), T0 + 86_400_000))
        .message;
      for (const typed of ['+375 29 123-45-67', '8 (029) 1234567', '291234567'])
        expect(
          (await findMessages(t.conn, { phone: typed, limit: 10 })).map((r) => r.id),
          typed,
        ).toEqual([b.id, a.id]);
      expect(
        (await findMessages(t.conn, { phone: '291234567', to: '2027-01-15', limit: 10 })).map(
          (r) => r.id,
        ),
      ).toEqual([a.id]);
      expect(
        (await findMessages(t.conn, { phone: '291234567', from: '2027-01-16', limit: 10 })).map(
          (r) => r.id,
        ),
      ).toEqual([b.id]);
      await expect(findMessages(t.conn, { from: 'yesterday', limit: 10 })).rejects.toBeInstanceOf(
        SearchInputError,
      );
      expect(await findMessages(t.conn, { sender: 'NOBODY', limit: 10 })).toEqual([]);
      expect(await findMessages(t.conn, { state: 'DELIVRD', limit: 10 })).toEqual([]);
      await expect(findMessages(t.conn, { phone: '12', limit: 10 })).rejects.toBeInstanceOf(
        SearchInputError,
      );
    });

    it('a search by number reads the (phone, created_at) index, not the table', async () => {
      await seedHistory(t.conn, 5000, T0);
      const plan = await planOf(
        t.conn,
        searchMessagesQuery(t.conn, { phone: '+375291234567', limit: 50 }),
      );
      expect(plan.indexes).toContain('messages_phone');
      expect(plan.tableScan).toBe(false);
    });
  });
