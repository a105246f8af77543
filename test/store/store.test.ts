import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimForSending, reserveSlots } from '../../src/store/claims.js';
import {
  DEFAULT_CONTRACT,
  holdAlpha,
  pauseContract,
  releaseAlpha,
  releaseAlphaProbe,
  resumeContract,
  setPace,
  takeContractProbe,
} from '../../src/store/contracts.js';
import type { Connection } from '../../src/store/index.js';
import {
  addOptout,
  getContract,
  getPortal,
  listOptouts,
  migrate,
  portalContractId,
  portalFootprint,
  removePortal,
  reportsFor,
  saveReport,
  upsertContract,
} from '../../src/store/index.js';
import { acquireLease } from '../../src/store/leases.js';
import { finishClaim, getMessage, insertMessage, releaseStale } from '../../src/store/outbox.js';
import { getPortalByHandlerKey, saveTokens, upsertPortal } from '../../src/store/portals.js';
import { markPushedMany, pendingPushes, pushBacklog, retryPush } from '../../src/store/pushes.js';
import { takeRestSlot } from '../../src/store/restBudget.js';
import {
  createTestDb,
  DIALECTS,
  testMessage as msg,
  seedDefaultContract,
  seedPortal,
  type TestDb,
} from '../helpers/db.js';

const T0 = 1_800_000_000_000;

/** Claims up to `max` messages of the default contract, slots 1 ms apart. */
async function claim(conn: Connection, worker: string, now: number, max: number) {
  const c = await claimForSending(conn, DEFAULT_CONTRACT, worker, now, () => ({
    max,
    spacingUs: 1000,
  }));
  return c?.messages ?? [];
}

for (const dialect of DIALECTS) {
  describe(`store contract on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await upsertPortal(
        t.conn,
        {
          id: 'member1',
          domain: 'a.bitrix24.by',
          clientEndpoint: 'https://a.bitrix24.by/rest/',
          serverEndpoint: 'https://oauth.bitrix.info/rest/',
          accessToken: 'at',
          refreshToken: 'rt',
          expiresAt: T0 + 3600_000,
          applicationToken: 'apptoken',
        },
        T0,
      );
      await seedDefaultContract(t.conn, T0);
    });
    afterEach(() => t.cleanup());

    it('migrate is idempotent', async () => {
      expect((await migrate(t.conn)).applied).toEqual([]);
    });

    it('re-install keeps the handler key and application token, updates tokens', async () => {
      const before = await upsertPortal(
        t.conn,
        {
          id: 'member1',
          domain: 'a.bitrix24.by',
          clientEndpoint: 'https://a.bitrix24.by/rest/',
          serverEndpoint: 'https://oauth.bitrix.info/rest/',
          accessToken: 'at2',
          refreshToken: 'rt2',
          expiresAt: T0,
          applicationToken: null,
        },
        T0 + 1,
      );
      expect(before.access_token).toBe('at2');
      expect(before.application_token).toBe('apptoken');
      expect(before.handler_key).toHaveLength(43);
      expect((await getPortalByHandlerKey(t.conn, before.handler_key))?.id).toBe('member1');
      await saveTokens(
        t.conn,
        'member1',
        { accessToken: 'at3', refreshToken: 'rt3', expiresAt: T0 + 5 },
        T0 + 2,
      );
      const after = await getPortalByHandlerKey(t.conn, before.handler_key);
      expect([after?.access_token, after?.refresh_token, after?.expires_at]).toEqual([
        'at3',
        'rt3',
        T0 + 5,
      ]);
    });

    it('the same Bitrix24 message_id twice is one message', async () => {
      const m = msg({ b24MessageId: 'abc' });
      const a = await insertMessage(t.conn, m, T0);
      const b = await insertMessage(t.conn, { ...m, text: 'other' }, T0 + 10);
      expect(a.created).toBe(true);
      expect(b.created).toBe(false);
      expect(b.message.id).toBe(a.message.id);
      expect(b.message.text).toBe('hello');
    });

    it('the message insertMessage returns is exactly the stored row', async () => {
      for (const m of [
        msg({ b24MessageId: 'row-1', bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: 7 }] }),
        msg({ b24MessageId: 'row-2', phone: null, failReason: 'invalid: landline' }),
        msg({ b24MessageId: null, kind: 'marketing', campaignId: 'c1', sendAt: T0 + 60_000 }),
      ]) {
        const { message } = await insertMessage(t.conn, m, T0);
        expect(message).toEqual(await getMessage(t.conn, message.id));
      }
    });

    it('a refused message is stored failed with its reason and a pending push', async () => {
      const { message } = await insertMessage(
        t.conn,
        msg({ phone: null, failReason: 'invalid: landline' }),
        T0,
      );
      expect(message).toMatchObject({
        state: 'failed',
        fail_reason: 'invalid: landline',
        b24_status: 'failed',
        push_pending: 1,
      });
      expect(await claim(t.conn, 'w', T0 + 1000, 10)).toEqual([]);
      const pushes = await pendingPushes(t.conn, T0, 10);
      expect(pushes.map((p) => p.id)).toEqual([message.id]);
    });

    it('removing a portal deletes everything of it, and nothing of another', async () => {
      await seedPortal(t.conn, 'member2', 'b.bitrix24.by');
      await upsertContract(
        t.conn,
        {
          id: portalContractId('member1'),
          label: 'own',
          api_url: null,
          client_id: '77',
          login: 'api',
          password_enc: 'enc',
          token_enc: null,
          sender: 'OWN',
          sender_marketing: null,
          rate: 5,
        },
        T0,
      );
      const mine = (await insertMessage(t.conn, msg(), T0)).message;
      const waiting = (await insertMessage(t.conn, msg({ sendAt: T0 + 60_000 }), T0)).message;
      const theirs = (await insertMessage(t.conn, msg({ portalId: 'member2' }), T0)).message;
      await saveReport(
        t.conn,
        { messageId: mine.id, mtsMessageId: 'x', source: 'dlr', body: {} },
        T0,
      );
      await saveReport(
        t.conn,
        { messageId: theirs.id, mtsMessageId: 'y', source: 'dlr', body: {} },
        T0,
      );
      await addOptout(t.conn, { phone: '+375291112233', portalId: 'member1' }, T0);
      await addOptout(t.conn, { phone: '+375291112233', portalId: 'member2' }, T0);
      expect(await portalFootprint(t.conn, 'member1')).toEqual({
        messages: 2,
        waiting: 2,
        campaigns: 0,
        ownContract: true,
      });

      expect(await removePortal(t.conn, 'member1')).toBe(true);
      expect(await getPortal(t.conn, 'member1')).toBeUndefined();
      expect(await getContract(t.conn, portalContractId('member1'))).toBeUndefined();
      for (const m of [mine, waiting]) expect(await getMessage(t.conn, m.id)).toBeUndefined();
      expect(await reportsFor(t.conn, mine.id)).toEqual([]);
      expect((await listOptouts(t.conn)).map((o) => o.scope)).toEqual(['member2']);
      // The other portal keeps everything.
      expect(await getPortal(t.conn, 'member2')).toBeDefined();
      expect(await getMessage(t.conn, theirs.id)).toBeDefined();
      expect(await reportsFor(t.conn, theirs.id)).toHaveLength(1);
      expect(await removePortal(t.conn, 'member1')).toBe(false);
    });

    it('the push backlog counts, per portal, the statuses waiting and those that failed', async () => {
      expect(await pushBacklog(t.conn)).toEqual([]);
      const refused = async () =>
        (await insertMessage(t.conn, msg({ phone: null, failReason: 'invalid: landline' }), T0))
          .message;
      const a = await refused();
      await refused();
      await retryPush(t.conn, a.id, T0 + 5000, 'HTTP 503', T0 + 1);
      expect(await pushBacklog(t.conn)).toEqual([
        { portal_id: 'member1', waiting: 2, failing: 1, next_at: T0, error: 'HTTP 503' },
      ]);
      expect(await pushBacklog(t.conn, 'other')).toEqual([]);
      await markPushedMany(t.conn, [{ id: a.id, status: 'failed' }], T0 + 2);
      expect(await pushBacklog(t.conn, 'member1')).toEqual([
        { portal_id: 'member1', waiting: 1, failing: 0, next_at: T0, error: null },
      ]);
    });

    it('claims due messages once, in order, and not before their time', async () => {
      const a = (await insertMessage(t.conn, msg(), T0)).message;
      const b = (await insertMessage(t.conn, msg(), T0 + 1)).message;
      const later = (await insertMessage(t.conn, msg({ sendAt: T0 + 60_000 }), T0 + 2)).message;
      const claimed = await claim(t.conn, 'w1', T0 + 10, 10);
      expect(claimed.map((m) => m.id)).toEqual([a.id, b.id]);
      expect(claimed[0]).toMatchObject({ state: 'sending', locked_by: 'w1', attempts: 1 });
      expect(await claim(t.conn, 'w2', T0 + 10, 10)).toEqual([]);
      expect((await claim(t.conn, 'w2', T0 + 60_000, 10)).map((m) => m.id)).toEqual([later.id]);
    });

    it('concurrent claimers never get the same message', async () => {
      for (let i = 0; i < 60; i++) await insertMessage(t.conn, msg(), T0);
      const results = await Promise.all(
        [0, 1, 2, 3].map((w) => claim(t.conn, `w${w}`, T0 + 1, 20)),
      );
      const ids = results.flat().map((m) => m.id);
      expect(ids.length).toBe(60);
      expect(new Set(ids).size).toBe(60);
    });

    it('a lost claim cannot be finished; a stale claim comes back unsure', async () => {
      const { message } = await insertMessage(t.conn, msg(), T0);
      await claim(t.conn, 'w1', T0, 1);
      expect(await releaseStale(t.conn, T0 + 1, T0 + 2)).toBe(1);
      expect(await finishClaim(t.conn, message.id, 'w1', { state: 'ACCEPTD' }, T0 + 3)).toBe(false);
      const back = await getMessage(t.conn, message.id);
      expect(back).toMatchObject({ state: 'queued', unsure: 1, locked_by: null });
      const [again] = await claim(t.conn, 'w2', T0 + 5, 1);
      expect(again?.attempts).toBe(2);
      expect(
        await finishClaim(
          t.conn,
          message.id,
          'w2',
          { state: 'ACCEPTD', mts_message_id: 'x' },
          T0 + 6,
        ),
      ).toBe(true);
    });

    it('claims of a sender without a live lease are freed early; a live sender keeps its claims', async () => {
      const a = (await insertMessage(t.conn, msg(), T0)).message;
      const b = (await insertMessage(t.conn, msg(), T0)).message;
      await claim(t.conn, 'dead', T0, 1);
      await claim(t.conn, 'alive', T0, 1);
      await acquireLease(t.conn, 'sender:alive', 'alive', 15_000, T0 + 10_000);
      // Long before the lock TTL, but past the liveness window.
      expect(await releaseStale(t.conn, T0 - 120_000, T0 + 20_000, T0 + 5_000)).toBe(1);
      const [ra, rb] = [await getMessage(t.conn, a.id), await getMessage(t.conn, b.id)];
      expect([ra?.locked_by, rb?.locked_by].sort()).toEqual(['alive', null]);
      expect([ra?.state, rb?.state].sort()).toEqual(['queued', 'sending']);
    });

    it('transactional messages are claimed before older marketing ones', async () => {
      const mk = [];
      for (let i = 0; i < 5; i++)
        mk.push((await insertMessage(t.conn, msg({ kind: 'marketing' }), T0 + i)).message);
      const card = (await insertMessage(t.conn, msg(), T0 + 100)).message;
      const claimed = await claim(t.conn, 'w', T0 + 200, 2);
      expect(claimed.map((m) => m.id)).toEqual([card.id, mk[0]?.id]);
    });

    it('a lane is fair between portals: a mailing does not hold up another portal', async () => {
      await upsertPortal(
        t.conn,
        {
          id: 'member2',
          domain: 'b.bitrix24.by',
          clientEndpoint: 'https://b.bitrix24.by/rest/',
          serverEndpoint: 'https://oauth.bitrix.info/rest/',
          accessToken: 'at',
          refreshToken: 'rt',
          expiresAt: T0 + 3600_000,
          applicationToken: 'apptoken2',
        },
        T0,
      );
      // Portal 1 queues 30 at once (one slot = 100 ms at 10/s); portal 2 queues 3 a second later.
      for (let i = 0; i < 30; i++)
        await insertMessage(t.conn, msg({ kind: 'marketing', vtStepMs: 100 }), T0);
      const late = [];
      for (let i = 0; i < 3; i++)
        late.push(
          (
            await insertMessage(
              t.conn,
              msg({ portalId: 'member2', kind: 'marketing', vtStepMs: 100 }),
              T0 + 1000,
            )
          ).message.id,
        );
      // By T0 + 1 s portal 1 had its ten slots' worth; the next claims alternate.
      await claim(t.conn, 'w', T0 + 1000, 10);
      const next = await claim(t.conn, 'w', T0 + 1000, 6);
      expect(next.map((m) => m.portal_id)).toEqual([
        'member1',
        'member2',
        'member1',
        'member2',
        'member1',
        'member2',
      ]);
      expect(next.filter((m) => m.portal_id === 'member2').map((m) => m.id)).toEqual(late);
    });

    it('slots are handed out in order, never twice, across concurrent claimers', async () => {
      for (let i = 0; i < 40; i++) await insertMessage(t.conn, msg(), T0);
      const claims = await Promise.all(
        [0, 1, 2, 3].map((w) =>
          claimForSending(t.conn, DEFAULT_CONTRACT, `w${w}`, T0, () => ({
            max: 10,
            spacingUs: 50_000,
          })),
        ),
      );
      const slots = claims.flatMap((c) => c?.slotsUs ?? []).sort((a, b) => a - b);
      expect(slots).toHaveLength(40);
      expect(slots).toEqual(slots.map((_, i) => T0 * 1000 + i * 50_000));
      // Lookups and polls take the following slots; an idle gap restarts at now.
      expect(await reserveSlots(t.conn, DEFAULT_CONTRACT, 2, () => 50_000, T0 * 1000)).toEqual([
        T0 * 1000 + 40 * 50_000,
        T0 * 1000 + 41 * 50_000,
      ]);
      expect(
        await reserveSlots(t.conn, DEFAULT_CONTRACT, 1, () => 50_000, (T0 + 60_000) * 1000),
      ).toEqual([(T0 + 60_000) * 1000]);
    });

    it('a held alpha name waits; one probe goes; a release brings every message back', async () => {
      const held = [];
      for (let i = 0; i < 3; i++)
        held.push((await insertMessage(t.conn, msg({ alphaName: 'BAD' }), T0)).message);
      const other = (await insertMessage(t.conn, msg({ alphaName: 'GOOD' }), T0)).message;
      const hold = {
        contractId: DEFAULT_CONTRACT,
        alphaName: 'BAD',
        reason: 'alpha name not permitted',
        code: 'MTS_10262',
        probeInMs: 5000,
      };
      expect(await holdAlpha(t.conn, hold, T0)).toBe(true);
      expect(await holdAlpha(t.conn, hold, T0 + 1)).toBe(false);
      expect((await getMessage(t.conn, held[0]?.id as string))?.state).toBe('held');
      // A message of the held name queued later is not claimed either; the other name goes.
      const lateHeld = (await insertMessage(t.conn, msg({ alphaName: 'BAD' }), T0 + 2)).message;
      expect((await claim(t.conn, 'w', T0 + 10, 10)).map((m) => m.id)).toEqual([other.id]);
      // Not before its time; then exactly one probe, and the late one joins the held.
      expect(await releaseAlphaProbe(t.conn, DEFAULT_CONTRACT, 'BAD', 10_000, T0 + 10)).toBeNull();
      const probe = await releaseAlphaProbe(t.conn, DEFAULT_CONTRACT, 'BAD', 10_000, T0 + 5000);
      expect(probe).toBe(held[0]?.id);
      expect((await getMessage(t.conn, lateHeld.id))?.state).toBe('held');
      expect((await claim(t.conn, 'w', T0 + 5001, 10)).map((m) => m.id)).toEqual([probe]);
      expect(await releaseAlpha(t.conn, DEFAULT_CONTRACT, 'BAD', T0 + 6000)).toBe(true);
      const back = await claim(t.conn, 'w', T0 + 6001, 10);
      expect(back.map((m) => m.id).sort()).toEqual(
        [held[1]?.id, held[2]?.id, lateHeld.id].sort() as string[],
      );
    });

    it('a paused contract lets exactly one probe through per interval, and resumes once', async () => {
      const p = { reason: 'balance exhausted', code: 'MTS_10229', probeInMs: 5000 };
      expect(await pauseContract(t.conn, DEFAULT_CONTRACT, p, T0)).toBe(true);
      expect(await pauseContract(t.conn, DEFAULT_CONTRACT, p, T0 + 1)).toBe(false);
      expect(await takeContractProbe(t.conn, DEFAULT_CONTRACT, 10_000, T0 + 4000)).toBe(false);
      const takers = await Promise.all(
        [0, 1, 2].map(() => takeContractProbe(t.conn, DEFAULT_CONTRACT, 10_000, T0 + 5000)),
      );
      expect(takers.filter(Boolean)).toHaveLength(1);
      expect(await takeContractProbe(t.conn, DEFAULT_CONTRACT, 10_000, T0 + 9000)).toBe(false);
      expect(await resumeContract(t.conn, DEFAULT_CONTRACT, T0 + 9500)).toBe(true);
      expect(await resumeContract(t.conn, DEFAULT_CONTRACT, T0 + 9600)).toBe(false);
    });

    it('one pace change per storm: a second writer that saw the old pace loses', async () => {
      expect(await setPace(t.conn, DEFAULT_CONTRACT, 0.7, 0, T0)).toBe(true);
      expect(await setPace(t.conn, DEFAULT_CONTRACT, 0.7, 0, T0 + 1)).toBe(false);
      expect(await setPace(t.conn, DEFAULT_CONTRACT, 0.49, T0, T0 + 2000)).toBe(true);
    });

    it('a portal REST budget is one leaky bucket for every instance', async () => {
      const limits = { rate: 2, burst: 50 };
      // Two "instances" take 54 requests at once: 50 go now, the rest 0.5 s apart.
      const waits = await Promise.all(
        Array.from({ length: 54 }, () => takeRestSlot(t.conn, 'member1', limits, T0)),
      );
      expect(waits.filter((w) => w === 0)).toHaveLength(50);
      expect(waits.filter((w) => w > 0).sort((a, b) => a - b)).toEqual([500, 1000, 1500, 2000]);
      // Ten seconds drain twenty; another portal has its own budget.
      expect(await takeRestSlot(t.conn, 'member1', limits, T0 + 10_000)).toBe(0);
      expect(await takeRestSlot(t.conn, 'other', limits, T0)).toBe(0);
      // Bitrix24 said QUERY_LIMIT_EXCEEDED: the bucket is full, the next one waits.
      await takeRestSlot(t.conn, 'other', limits, T0, true);
      expect(await takeRestSlot(t.conn, 'other', limits, T0)).toBe(500);
    });

    it('a lease has one holder until it expires', async () => {
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'b', 1000, T0 + 500)).toBe(false);
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0 + 900)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'b', 1000, T0 + 2000)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0 + 2100)).toBe(false);
    });

    it('marking a batch pushed clears each row only if its status is still the pushed one', async () => {
      const ids: string[] = [];
      for (const b24MessageId of ['p1', 'p2', 'p3']) {
        const { message } = await insertMessage(
          t.conn,
          msg({ b24MessageId, phone: null, failReason: 'x' }),
          T0,
        );
        ids.push(message.id);
      }
      const [a, b, c] = ids as [string, string, string];
      // b moved on to `undelivered` after `failed` was sent: it stays pending.
      await t.conn.db
        .updateTable('messages')
        .set({ b24_status: 'undelivered' })
        .where('id', '=', b)
        .execute();
      await markPushedMany(
        t.conn,
        [
          { id: a, status: 'failed' },
          { id: b, status: 'failed' },
          { id: c, status: 'failed' },
        ],
        T0 + 1,
      );
      expect((await getMessage(t.conn, a))?.push_pending).toBe(0);
      expect((await getMessage(t.conn, b))?.push_pending).toBe(1);
      expect(await getMessage(t.conn, c)).toMatchObject({
        push_pending: 0,
        b24_pushed_status: 'failed',
      });
      await markPushedMany(t.conn, [{ id: b, status: 'undelivered' }], T0 + 2);
      expect(await getMessage(t.conn, b)).toMatchObject({
        push_pending: 0,
        b24_pushed_status: 'undelivered',
      });
    });
  });
}
