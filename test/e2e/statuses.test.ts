import { afterEach, describe, expect, it } from 'vitest';
import { getMessage, getMessageByB24Id, type Message } from '../../src/store/outbox.js';
import { listPortals } from '../../src/store/portals.js';
import { reportsFor } from '../../src/store/reports.js';
import { DIALECTS, seedPortal } from '../helpers/db.js';
import { type Harness, type HarnessOptions, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

async function postJson(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    json: (await res.json().catch(() => null)) as Record<string, unknown> | null,
  };
}

for (const dialect of DIALECTS) {
  describe(`delivery statuses on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    async function start(opts: Partial<HarnessOptions> = {}) {
      h = await startHarness({ dialect, ...opts });
      return h;
    }
    async function dlrUrl(): Promise<string> {
      const [p] = await listPortals(h.db.conn);
      return `${h.url}/mts/dlr/${p?.dlr_key}`;
    }
    /** A card send, waited until MTS accepted it. */
    async function accepted(
      to = '+375291234567',
      bindings?: { OWNER_TYPE_ID: number; OWNER_ID: number }[],
    ): Promise<{ b24Id: string; m: Message }> {
      const sent = await h.b24.sendFromCard({
        to,
        text: 'status test',
        ...(bindings ? { bindings } : {}),
      });
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const m = await waitFor(async () => {
        const row = await getMessageByB24Id(h.db.conn, portalId, sent.messageId);
        return row?.mts_message_id ? row : null;
      }, 'MTS acceptance');
      return { b24Id: sent.messageId, m };
    }
    const dlr = (m: Message, over: Record<string, unknown> = {}) => ({
      number: 375291234567,
      time: Date.now(),
      status: 2,
      substatus: 23,
      hyber_status: 23011,
      message_id: m.mts_message_id,
      extra_id: m.id,
      sent_via: 'sms',
      total_sms_parts: 1,
      delivered_sms_parts: 1,
      ...over,
    });

    it('a DLR object, an array and textual statuses are mapped, stored raw and pushed', async () => {
      await start();
      h.mts.setDlrEnabled(false);
      const a = await accepted();
      const b = await accepted('+375297654321');
      const c = await accepted('+375447654321');
      const url = await dlrUrl();
      expect((await postJson(url, dlr(a.m))).status).toBe(200);
      const arr = await postJson(url, [
        {
          ...dlr(b.m, { number: 375297654321 }),
          status: 'UNDELIV',
          substatus: undefined,
          hyber_status: undefined,
        },
        dlr(c.m, { number: 375447654321, status: 3, hyber_status: 35015 }),
      ]);
      expect(arr).toMatchObject({ status: 200, json: { accepted: 2 } });
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('DELIVRD');
      expect((await getMessage(h.db.conn, b.m.id))?.state).toBe('UNDELIV');
      expect((await getMessage(h.db.conn, c.m.id))?.state).toBe('EXPIRED');
      expect(
        (await reportsFor(h.db.conn, a.m.id)).map((r) => JSON.parse(r.body).hyber_status),
      ).toEqual([23011]);
      await waitFor(() => h.b24.latestStatus(a.b24Id) === 'delivered', 'delivered');
      await waitFor(
        () =>
          h.b24.latestStatus(b.b24Id) === 'undelivered' &&
          h.b24.latestStatus(c.b24Id) === 'undelivered',
        'undelivered',
      );
    });

    it('a wrong key changes nothing; an unknown id is answered 200 and counted', async () => {
      await start();
      h.mts.setDlrEnabled(false);
      const a = await accepted();
      const wrong = await postJson(`${h.url}/mts/dlr/${'x'.repeat(43)}`, dlr(a.m));
      expect(wrong.status).toBe(404);
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('ACCEPTD');
      const unknown = await postJson(await dlrUrl(), {
        ...dlr(a.m),
        message_id: 'no-such-id',
        extra_id: 'no-such-extra',
      });
      expect(unknown.status).toBe(200);
      const metric = (await h.service.metrics.dlrs.get()).values.find(
        (v) => v.labels.kind === 'unknown_id',
      );
      expect(metric?.value).toBe(1);
      expect((await postJson(await dlrUrl(), '"just a string"')).status).toBe(400);
      // Another portal's callback key cannot touch this portal's message.
      const other = await seedPortal(h.db.conn, 'other-portal', 'other.bitrix24.by');
      const cross = await postJson(`${h.url}/mts/dlr/${other.dlr_key}`, dlr(a.m));
      expect(cross.status).toBe(200);
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('ACCEPTD');
    });

    it('duplicates and out-of-order reports: DELIVRD then ACCEPTD stays delivered, and nothing more is pushed', async () => {
      await start();
      h.mts.setDlrEnabled(false);
      const a = await accepted();
      const url = await dlrUrl();
      await postJson(url, dlr(a.m));
      await waitFor(() => h.b24.latestStatus(a.b24Id) === 'delivered', 'delivered');
      const updates = h.b24.statusUpdates.filter((u) => u.messageId === a.b24Id).length;
      await postJson(url, dlr(a.m, { status: -1 }));
      await postJson(url, { ...dlr(a.m), status: 'ACCEPTD' });
      await postJson(url, dlr(a.m));
      await postJson(url, dlr(a.m, { status: 3, hyber_status: 35015 }));
      await new Promise((r) => setTimeout(r, 400));
      expect(await getMessage(h.db.conn, a.m.id)).toMatchObject({
        state: 'DELIVRD',
        push_pending: 0,
      });
      expect(h.b24.statusUpdates.filter((u) => u.messageId === a.b24Id)).toHaveLength(updates);
      expect(h.b24.latestStatus(a.b24Id)).toBe('delivered');
    });

    it('multipart: delivered only when every part is', async () => {
      await start();
      h.mts.setDlrEnabled(false);
      const a = await accepted();
      const url = await dlrUrl();
      await postJson(url, dlr(a.m, { total_sms_parts: 3, delivered_sms_parts: 2 }));
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('ACCEPTD');
      await postJson(url, dlr(a.m, { total_sms_parts: 3, delivered_sms_parts: 3 }));
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('DELIVRD');
    });

    it('MTS drops every DLR: the poller finds the final state', async () => {
      await start({ env: { MTS_POLL_AFTER: '1', MTS_POLL_INTERVAL: '1' } });
      h.mts.setDlrEnabled(false);
      const a = await accepted();
      await waitFor(
        () => h.b24.latestStatus(a.b24Id) === 'delivered',
        'delivered via polling',
        15_000,
      );
      const reports = await reportsFor(h.db.conn, a.m.id);
      expect(reports.map((r) => r.source)).toContain('poll');
      expect(h.mts.requests.some((r) => r.kind === 'status')).toBe(true);
    });

    it('no final state within TTL + grace: EXPIRED, undelivered, and a note on the CRM card', async () => {
      await start({
        env: {
          MTS_POLL_AFTER: '1',
          MTS_POLL_INTERVAL: '1',
          MTS_SMS_TTL: '300',
          MTS_EXPIRE_GRACE: '60',
        },
      });
      h.mts.setOutcome(() => 'pending');
      const contact = h.b24.addContact({ NAME: 'Anna', PHONE: ['+375291234567'] });
      const a = await accepted('+375291234567', [{ OWNER_TYPE_ID: 3, OWNER_ID: contact }]);
      // Still pending at MTS after polling…
      await waitFor(async () => ((await getMessage(h.db.conn, a.m.id))?.polls ?? 0) >= 1, 'a poll');
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('ACCEPTD');
      // …and its acceptance is now older than TTL + grace.
      await h.db.conn.db
        .updateTable('messages')
        .set({ accepted_at: Date.now() - 361_000 })
        .where('id', '=', a.m.id)
        .execute();
      await waitFor(
        () => h.b24.latestStatus(a.b24Id) === 'undelivered',
        'undelivered after expiry',
        15_000,
      );
      expect((await getMessage(h.db.conn, a.m.id))?.state).toBe('EXPIRED');
      await waitFor(() => h.b24.timelineComments.length === 1, 'timeline note');
      expect(h.b24.timelineComments[0]).toMatchObject({
        ENTITY_TYPE: 'contact',
        ENTITY_ID: contact,
      });
      expect(h.b24.timelineComments[0]?.COMMENT).toMatch(
        /^SMS не доставлено \(SMS через МТС Беларусь\): абонент был недоступен/,
      );
    });

    it('a refused card send leaves one note on the card; a portal can turn notes off', async () => {
      await start();
      const contact = h.b24.addContact({ NAME: 'Ivan', PHONE: ['+375171234567'] });
      const sent = await h.b24.sendFromCard({
        to: '+375 17 123-45-67',
        text: 'x',
        bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: contact }],
      });
      await waitFor(() => h.b24.latestStatus(sent.messageId) === 'failed', 'failed');
      await waitFor(() => h.b24.timelineComments.length === 1, 'note');
      expect(h.b24.timelineComments[0]?.COMMENT).toMatch(
        /^SMS не отправлено .*\+375 17 123-45-67 — не мобильный номер.*Добавьте в карточку мобильный номер/s,
      );
      const { updatePortalSettings } = await import('../../src/store/portals.js');
      await updatePortalSettings(
        h.db.conn,
        (await listPortals(h.db.conn))[0]?.id as string,
        { timelineNotes: false },
        Date.now(),
      );
      const again = await h.b24.sendFromCard({
        to: '+375 17 123-45-67',
        text: 'y',
        bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: contact }],
      });
      await waitFor(() => h.b24.latestStatus(again.messageId) === 'failed', 'failed');
      expect(h.b24.timelineComments).toHaveLength(1);
    });
  });
}

describe('status push inside Bitrix24 limits', () => {
  const dialect = DIALECTS[DIALECTS.length - 1] ?? 'sqlite';
  let h: Harness;
  afterEach(() => h?.close());

  it('200 deliveries through a tight bucket with expiring tokens arrive in at most 5 REST requests', async () => {
    h = await startHarness({
      dialect,
      b24: { accessTokenTtlSec: 3, bucket: { rate: 1, burst: 3 } },
      // A batch goes when it holds 50 statuses: with the default 2 s wait, how many requests 200
      // deliveries take depends on how fast this machine posts them (a loaded CI machine
      // spread them over 7 batches), which is not what this test is about.
      env: { B24_RATE: '1', B24_BURST: '3', MTS_RATE_LIMIT: '200', B24_PUSH_DELAY_MS: '60000' },
    });
    // Let the start-up consent sync finish so only status pushes are counted.
    await h.service.consent.syncNow((await listPortals(h.db.conn))[0]?.id as string);
    const before = h.b24.restRequests.total;
    const ids: string[] = [];
    for (let i = 0; i < 200; i++)
      ids.push(
        (await h.b24.sendFromCard({ to: `+37529${1_000_000 + i}`, text: `n${i}`, withAuth: false }))
          .messageId,
      );
    await waitFor(() => h.b24.statusUpdates.length > 0, 'first pushes', 20_000);
    h.b24.expireAllTokens();
    await waitFor(
      () => ids.every((id) => h.b24.latestStatus(id) === 'delivered'),
      'all 200 delivered',
      60_000,
      100,
    );
    const used = h.b24.restRequests.total - before;
    expect(used).toBeLessThanOrEqual(200 / 40);
  }, 90_000);

  it('a one-minute Bitrix24 outage: every status arrives afterwards', async () => {
    h = await startHarness({ dialect });
    h.b24.setOutage(true);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        (await h.b24.sendFromCard({ to: `+37529${2_000_000 + i}`, text: `o${i}` })).messageId,
      );
    await waitFor(() => h.mts.sent.length === 20, 'all sent to MTS');
    await new Promise((r) => setTimeout(r, 60_000));
    expect(ids.some((id) => h.b24.latestStatus(id))).toBe(false);
    h.b24.setOutage(false);
    await waitFor(
      () => ids.every((id) => h.b24.latestStatus(id) === 'delivered'),
      'all delivered after the outage',
      120_000,
      250,
    );
  }, 240_000);
});
