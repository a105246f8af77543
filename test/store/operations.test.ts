import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inTransaction, ping } from '../../src/store/connection.js';
import { moveWaitingMessages } from '../../src/store/contracts.js';
import { searchMessages } from '../../src/store/messageList.js';
import { getMessage, insertMessage, transition } from '../../src/store/outbox.js';
import { failRobotJob, insertRobotJob, takeRobotJob } from '../../src/store/robotJobs.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';

const T0 = 1_800_000_000_000;

// The store operations that routes, workers and the CLI used to run as SQL of their own.
for (const dialect of DIALECTS)
  describe(`store operations on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    it('ping answers; inTransaction commits together or not at all', async () => {
      await expect(ping(t.conn)).resolves.toBeUndefined();
      const kept = await inTransaction(t.conn, async (tx) => {
        const { message } = await insertMessage(tx, testMessage(), T0);
        return message;
      });
      expect(await getMessage(t.conn, kept.id)).toBeDefined();

      let lost: string | undefined;
      await expect(
        inTransaction(t.conn, async (tx) => {
          lost = (await insertMessage(tx, testMessage(), T0)).message.id;
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(lost).toBeDefined();
      expect(await getMessage(t.conn, lost as string)).toBeUndefined();
    });

    it('searchMessages lists the newest first, optionally of one state', async () => {
      const a = (await insertMessage(t.conn, testMessage(), T0)).message;
      const b = (await insertMessage(t.conn, testMessage(), T0 + 1)).message;
      const c = (await insertMessage(t.conn, testMessage({ failReason: 'bad' }), T0 + 2)).message;
      expect((await searchMessages(t.conn, { limit: 10 })).map((m) => m.id)).toEqual([
        c.id,
        b.id,
        a.id,
      ]);
      expect((await searchMessages(t.conn, { limit: 1 })).map((m) => m.id)).toEqual([c.id]);
      const queued = await searchMessages(t.conn, { limit: 10, state: 'queued' });
      expect(queued.map((m) => m.id)).toEqual([b.id, a.id]);
      expect(queued[0]).not.toHaveProperty('text');
    });

    it('moveWaitingMessages moves queued and held messages only', async () => {
      const on = { contractId: 'portal:member1' };
      const queued = (await insertMessage(t.conn, testMessage(on), T0)).message;
      const held = (await insertMessage(t.conn, testMessage(on), T0)).message;
      const sent = (await insertMessage(t.conn, testMessage(on), T0)).message;
      await transition(t.conn, held.id, 'queued', { state: 'held' }, T0);
      await transition(t.conn, sent.id, 'queued', { state: 'ACCEPTD' }, T0);
      expect(await moveWaitingMessages(t.conn, 'portal:member1', 'default')).toBe(2);
      const contractOf = async (id: string) => (await getMessage(t.conn, id))?.contract_id;
      expect(await contractOf(queued.id)).toBe('default');
      expect(await contractOf(held.id)).toBe('default');
      expect(await contractOf(sent.id)).toBe('portal:member1');
    });

    it('a robot job is taken once; only a pending job can fail', async () => {
      const getRobotJob = (id: string) =>
        t.conn.db.selectFrom('robot_jobs').selectAll().where('id', '=', id).executeTakeFirst();
      const job = () =>
        insertRobotJob(
          t.conn,
          {
            portalId: 'member1',
            eventToken: `e${Math.random()}`,
            code: 'sms',
            documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'],
            properties: {},
          },
          T0,
        ).then((r) => r.job);
      const taken = await job();
      expect(await takeRobotJob(t.conn, taken.id, T0 + 1)).toBe(true);
      expect(await takeRobotJob(t.conn, taken.id, T0 + 2)).toBe(false);
      await failRobotJob(t.conn, taken.id, 'too late', T0 + 3);
      expect((await getRobotJob(taken.id))?.state).toBe('queued');

      const failing = await job();
      await failRobotJob(t.conn, failing.id, 'no text', T0 + 4);
      expect(await getRobotJob(failing.id)).toMatchObject({
        state: 'failed',
        last_error: 'no text',
        event_state: 1,
        event_run_at: 0,
      });
      expect(await takeRobotJob(t.conn, failing.id, T0 + 5)).toBe(false);
    });
  });
