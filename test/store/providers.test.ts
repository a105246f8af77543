import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertMessage, transition } from '../../src/store/outbox.js';
import { providerCodesInUse } from '../../src/store/pushes.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';

const T0 = 1_800_000_000_000;

for (const dialect of DIALECTS)
  describe(`provider codes still in use on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    it('a provider is in use while one of its messages has a status still to report', async () => {
      const m = await insertMessage(t.conn, testMessage({ providerCode: 'mts_sms_by.CLINIC' }), T0);
      await insertMessage(t.conn, testMessage(), T0);
      expect(await providerCodesInUse(t.conn, 'member1')).toEqual(['mts_sms_by.CLINIC']);
      // Final, its status not pushed yet: still in use.
      await transition(
        t.conn,
        m.message.id,
        'queued',
        { state: 'DELIVRD', b24_status: 'delivered', final_at: T0, push_pending: 1 },
        T0,
      );
      expect(await providerCodesInUse(t.conn, 'member1')).toEqual(['mts_sms_by.CLINIC']);
      expect(await providerCodesInUse(t.conn, 'other')).toEqual([]);
      await transition(t.conn, m.message.id, 'DELIVRD', { push_pending: 0 }, T0);
      expect(await providerCodesInUse(t.conn, 'member1')).toEqual([]);
    });
  });
