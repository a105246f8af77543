import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/index.js';
import { acquireLease } from '../../src/store/leases.js';
import {
  claimDue,
  finishClaim,
  getMessage,
  insertMessage,
  type NewMessage,
  releaseStale,
  touchClaim,
} from '../../src/store/outbox.js';
import { getPortalByHandlerKey, saveTokens, upsertPortal } from '../../src/store/portals.js';
import { markPushed, pendingPushes } from '../../src/store/pushes.js';
import { tryStart } from '../../src/store/rateLimit.js';
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js';

const T0 = 1_800_000_000_000;

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    portalId: 'member1',
    b24MessageId: `m${Math.random().toString(16).slice(2)}`,
    source: 'crm',
    kind: 'transactional',
    phoneRaw: '+375291234567',
    phone: '+375291234567',
    text: 'hello',
    alphaName: 'BRAND',
    ...over,
  };
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
      expect(await claimDue(t.conn, 'w', T0 + 1000, 10)).toEqual([]);
      const pushes = await pendingPushes(t.conn, T0, 10);
      expect(pushes.map((p) => p.id)).toEqual([message.id]);
    });

    it('claims due messages once, in order, and not before their time', async () => {
      const a = (await insertMessage(t.conn, msg(), T0)).message;
      const b = (await insertMessage(t.conn, msg(), T0 + 1)).message;
      const later = (await insertMessage(t.conn, msg({ sendAt: T0 + 60_000 }), T0 + 2)).message;
      const claimed = await claimDue(t.conn, 'w1', T0 + 10, 10);
      expect(claimed.map((m) => m.id)).toEqual([a.id, b.id]);
      expect(claimed[0]).toMatchObject({ state: 'sending', locked_by: 'w1', attempts: 1 });
      expect(await claimDue(t.conn, 'w2', T0 + 10, 10)).toEqual([]);
      expect((await claimDue(t.conn, 'w2', T0 + 60_000, 10)).map((m) => m.id)).toEqual([later.id]);
    });

    it('concurrent claimers never get the same message', async () => {
      for (let i = 0; i < 60; i++) await insertMessage(t.conn, msg(), T0);
      const results = await Promise.all(
        [0, 1, 2, 3].map((w) => claimDue(t.conn, `w${w}`, T0 + 1, 20)),
      );
      const ids = results.flat().map((m) => m.id);
      expect(ids.length).toBe(60);
      expect(new Set(ids).size).toBe(60);
    });

    it('a lost claim cannot be finished; a stale claim comes back unsure', async () => {
      const { message } = await insertMessage(t.conn, msg(), T0);
      await claimDue(t.conn, 'w1', T0, 1);
      expect(await releaseStale(t.conn, T0 + 1, T0 + 2)).toBe(1);
      expect(await finishClaim(t.conn, message.id, 'w1', { state: 'ACCEPTD' }, T0 + 3)).toBe(false);
      expect(await touchClaim(t.conn, message.id, 'w1', T0 + 3)).toBe(false);
      const back = await getMessage(t.conn, message.id);
      expect(back).toMatchObject({ state: 'queued', unsure: 1, locked_by: null });
      const [again] = await claimDue(t.conn, 'w2', T0 + 5, 1);
      expect(again?.attempts).toBe(2);
      expect(await touchClaim(t.conn, message.id, 'w2', T0 + 5)).toBe(true);
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
      await claimDue(t.conn, 'dead', T0, 1);
      await claimDue(t.conn, 'alive', T0, 1);
      await acquireLease(t.conn, 'sender:alive', 'alive', 15_000, T0 + 10_000);
      // Long before the lock TTL, but past the liveness window.
      expect(await releaseStale(t.conn, T0 - 120_000, T0 + 20_000, T0 + 5_000)).toBe(1);
      const [ra, rb] = [await getMessage(t.conn, a.id), await getMessage(t.conn, b.id)];
      expect([ra?.locked_by, rb?.locked_by].sort()).toEqual(['alive', null]);
      expect([ra?.state, rb?.state].sort()).toEqual(['queued', 'sending']);
    });

    it('the shared window admits `limit` starts per window, smoothed over its tenths', async () => {
      const go = async (at: number, limit = 20) =>
        await tryStart(t.conn, 'mts', limit, 1000, () => at);
      // 20 per 1000 ms, at most 2 per 100 ms slice, even when 8 ask at once.
      const burst = await Promise.all(Array.from({ length: 8 }, () => go(T0)));
      expect(burst.filter((d) => d.go)).toHaveLength(2);
      const waits = burst.filter((d) => !d.go).map((d) => (d as { retryAt: number }).retryAt);
      expect(waits.every((w) => w > T0 + 100 && w <= T0 + 102)).toBe(true);
      // Nine more slices fill the window: 20 starts in 1000 ms…
      let admitted = 2;
      for (let k = 1; k < 10; k++)
        for (const _ of [0, 1, 2]) if ((await go(T0 + k * 101)).go) admitted++;
      expect(admitted).toBe(20);
      // …and the 21st waits for the oldest to leave the window.
      const full = await go(T0 + 990);
      expect(full.go).toBe(false);
      expect((full as { retryAt: number }).retryAt).toBeGreaterThan(T0 + 1000);
      expect((await go(T0 + 1010)).go).toBe(true);
      // Other limiters are independent.
      expect((await tryStart(t.conn, 'other', 1, 1000, () => T0)).go).toBe(true);
    });

    it('a lease has one holder until it expires', async () => {
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'b', 1000, T0 + 500)).toBe(false);
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0 + 900)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'b', 1000, T0 + 2000)).toBe(true);
      expect(await acquireLease(t.conn, 'poller', 'a', 1000, T0 + 2100)).toBe(false);
    });

    it('markPushed leaves a newer status pending', async () => {
      const { message } = await insertMessage(t.conn, msg({ phone: null, failReason: 'x' }), T0);
      await t.conn.db
        .updateTable('messages')
        .set({ b24_status: 'undelivered' })
        .where('id', '=', message.id)
        .execute();
      await markPushed(t.conn, message.id, 'failed', T0 + 1);
      expect((await getMessage(t.conn, message.id))?.push_pending).toBe(1);
      await markPushed(t.conn, message.id, 'undelivered', T0 + 2);
      expect(await getMessage(t.conn, message.id)).toMatchObject({
        push_pending: 0,
        b24_pushed_status: 'undelivered',
      });
    });
  });
}
