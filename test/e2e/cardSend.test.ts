import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getMessage, getMessageByB24Id } from '../../src/store/outbox.js';
import { listPortals } from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

async function post(url: string, body: string, type = 'application/x-www-form-urlencoded') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  return {
    status: res.status,
    json: (await res.json().catch(() => null)) as Record<string, unknown> | null,
  };
}

async function messageCount(h: Harness): Promise<number> {
  const row = await h.db.conn.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

for (const dialect of DIALECTS) {
  describe(`card send end to end on ${dialect}`, () => {
    let h: Harness;
    let handler: string;
    beforeEach(async () => {
      h = await startHarness({ dialect });
      const sender = h.b24.senders.find((s) => s.CODE === 'mts_sms_by');
      handler = String(sender?.HANDLER);
    });
    afterEach(() => h.close());

    it('install stores the portal and registers the provider with a secret handler URL', async () => {
      const [portal] = await listPortals(h.db.conn);
      expect(portal?.domain).toBe(h.b24.domain);
      expect(handler).toBe(`${h.url}/b24/sms/${portal?.handler_key}`);
      expect(portal?.handler_key.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url
      expect(h.b24.eventHandlers).toEqual([
        { event: 'ONAPPUPDATE', handler: `${h.url}/b24/events` },
        { event: 'ONAPPUNINSTALL', handler: `${h.url}/b24/events` },
      ]);
      // ONAPPUPDATE (sent to the bound handler) wipes providers: we register again, idempotently.
      expect(await h.b24.install(h.url, 'ONAPPUPDATE')).toBe(200);
      expect(h.b24.senders.filter((s) => s.CODE === 'mts_sms_by')).toHaveLength(1);
      expect(h.b24.robots.map((r) => r.CODE)).toEqual(['mts_sms_robot']);
      expect(h.b24.robots[0]?.HANDLER).toBe(`${h.url}/b24/robot/${portal?.handler_key}`);
      expect(await h.service.register()).toEqual([
        { portalId: portal?.id, domain: h.b24.domain, sender: 'updated', robot: 'updated' },
      ]);
    });

    it('a token-less ONAPPUPDATE re-registers with the stored tokens; ONAPPUNINSTALL closes the handler', async () => {
      const [portal] = await listPortals(h.db.conn);
      const event = (name: string, appToken: string) =>
        new URLSearchParams({
          event: name,
          'auth[domain]': h.b24.domain,
          'auth[member_id]': portal?.id as string,
          'auth[application_token]': appToken,
          'auth[client_endpoint]': portal?.client_endpoint as string,
          'auth[server_endpoint]': portal?.server_endpoint as string,
        }).toString();
      expect((await post(`${h.url}/b24/events`, event('ONAPPUPDATE', 'wrong'))).status).toBe(403);
      expect(
        (await post(`${h.url}/b24/events`, event('ONAPPUPDATE', h.b24.applicationToken))).status,
      ).toBe(200);
      expect(
        (await post(`${h.url}/b24/events`, event('ONAPPUNINSTALL', h.b24.applicationToken))).status,
      ).toBe(200);
      expect((await listPortals(h.db.conn))[0]?.status).toBe('uninstalled');
      expect(
        (await h.b24.sendFromCard({ to: '+375291234567', text: 'after uninstall' })).status,
      ).toBe(401);
    });

    it('a forged reinstall cannot replace the portal tokens; a genuine one can', async () => {
      const [before] = await listPortals(h.db.conn);
      const forged = new URLSearchParams({
        event: 'ONAPPINSTALL',
        'auth[access_token]': 'forged-access',
        'auth[refresh_token]': 'forged-refresh',
        'auth[expires_in]': '3600',
        'auth[domain]': h.b24.domain,
        'auth[member_id]': before?.id as string,
        'auth[application_token]': 'attacker-chosen',
        'auth[client_endpoint]': 'https://evil.example/rest/',
        'auth[server_endpoint]': 'https://evil.example/rest/',
      });
      expect((await post(`${h.url}/b24/install`, forged.toString())).status).toBe(403);
      const [after] = await listPortals(h.db.conn);
      expect(after?.access_token).toBe(before?.access_token);
      expect(after?.client_endpoint).toBe(before?.client_endpoint);
      // A real reinstall: Bitrix24 issues new tokens and a new application_token; the token
      // works at the portal, so the install is accepted and the new application_token kept.
      const fresh = h.b24.issueTokens();
      const genuine = new URLSearchParams({
        event: 'ONAPPINSTALL',
        'auth[access_token]': fresh.accessToken,
        'auth[refresh_token]': fresh.refreshToken,
        'auth[expires_in]': String(fresh.expiresIn),
        'auth[domain]': h.b24.domain,
        'auth[member_id]': before?.id as string,
        'auth[application_token]': 'new-application-token',
        'auth[client_endpoint]': before?.client_endpoint as string,
        'auth[server_endpoint]': before?.server_endpoint as string,
      });
      expect((await post(`${h.url}/b24/install`, genuine.toString())).status).toBe(200);
      const [reinstalled] = await listPortals(h.db.conn);
      // Stored: the pair from the verifying refresh (the posted one is spent by it).
      expect(reinstalled?.access_token).not.toBe(before?.access_token);
      expect(reinstalled?.access_token).not.toBe(fresh.accessToken);
      expect(reinstalled?.application_token).toBe('new-application-token');
      // A first install of a portal nobody knows, with made-up tokens: refused, nothing stored.
      forged.set('auth[member_id]', 'f'.repeat(32));
      expect((await post(`${h.url}/b24/install`, forged.toString())).status).toBe(403);
      expect(await listPortals(h.db.conn)).toHaveLength(1);
    });

    it('a card send reaches MTS with the normalized number, alpha name and our extra_id, and the status comes back', async () => {
      const sent = await h.b24.sendFromCard({
        to: '8 029 123-45-67',
        text: 'Your order is ready',
        bindings: [{ OWNER_TYPE_ID: 3, OWNER_ID: 7 }],
      });
      expect(sent.status).toBe(200);
      // Committed before the reply.
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const stored = await getMessageByB24Id(h.db.conn, portalId, sent.messageId);
      expect(stored).toMatchObject({
        phone: '+375291234567',
        source: 'crm',
        kind: 'transactional',
      });
      const atMts = await waitFor(
        () => h.mts.sent.find((s) => s.extraId === stored?.id),
        'the MTS submit',
      );
      expect(atMts).toMatchObject({
        phone: '375291234567',
        alphaName: 'SANDBOX',
        text: 'Your order is ready',
      });
      expect(atMts.callbackUrl).toMatch(new RegExp(`^${h.url}/mts/dlr/`));
      await waitFor(
        () => h.b24.latestStatus(sent.messageId) === 'delivered',
        'delivered status in Bitrix24',
      );
      // The batch answer is recorded just after Bitrix24 has it.
      const final = await waitFor(async () => {
        const m = await getMessage(h.db.conn, stored?.id as string);
        return m?.push_pending === 0 ? m : null;
      }, 'the push recorded');
      expect(final).toMatchObject({
        state: 'DELIVRD',
        mts_message_id: atMts.messageId,
        push_pending: 0,
        b24_pushed_status: 'delivered',
      });
    });

    it('the same Bitrix24 message_id twice is one message, sent once', async () => {
      const first = await h.b24.sendFromCard({ to: '+375291234567', text: 'once' });
      const again = await h.b24.sendFromCard({
        to: '+375291234567',
        text: 'once',
        messageId: first.messageId,
      });
      expect(again.status).toBe(200);
      expect(await messageCount(h)).toBe(1);
      await waitFor(() => h.b24.latestStatus(first.messageId) === 'delivered', 'delivered');
      expect(h.mts.sent).toHaveLength(1);
    });

    it.each([
      ['+375 17 123-45-67', 'landline'],
      ['+7 916 123-45-67', 'not a Belarus number'],
      ['hello', 'malformed'],
    ])('%s is stored failed (%s), Bitrix24 is told failed, nothing is sent', async (to, reason) => {
      const sent = await h.b24.sendFromCard({ to, text: 'x' });
      expect(sent.status).toBe(200);
      await waitFor(
        () => h.b24.latestStatus(sent.messageId) === 'failed',
        'failed status in Bitrix24',
      );
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const m = await getMessageByB24Id(h.db.conn, portalId, sent.messageId);
      expect(m?.state).toBe('failed');
      expect(m?.fail_reason).toContain(reason);
      expect(h.mts.requests.filter((r) => r.kind === 'send')).toHaveLength(0);
    });

    it('a text over 5 parts is refused with the reason', async () => {
      const sent = await h.b24.sendFromCard({ to: '+375291234567', text: 'Ж'.repeat(400) });
      await waitFor(() => h.b24.latestStatus(sent.messageId) === 'failed', 'failed status');
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      expect((await getMessageByB24Id(h.db.conn, portalId, sent.messageId))?.fail_reason).toMatch(
        /5 parts/,
      );
      expect(h.mts.sent).toHaveLength(0);
    });

    it('a wrong key or application_token is refused and nothing is stored', async () => {
      const wrongKey = handler.replace(/[^/]+$/, 'A'.repeat(43));
      const r1 = await h.b24.sendFromCard({ to: '+375291234567', text: 'x', handlerUrl: wrongKey });
      expect(r1.status).toBe(401);
      const r2 = await h.b24.sendFromCard({
        to: '+375291234567',
        text: 'x',
        applicationToken: 'forged',
      });
      expect(r2.status).toBe(403);
      expect(await messageCount(h)).toBe(0);
    });

    it('an empty, malformed or oversized body gets 400/413 and the service stays healthy', async () => {
      expect((await post(handler, '')).status).toBe(400);
      expect((await post(handler, 'message_to=%2B375291234567')).status).toBe(400);
      expect((await post(handler, '{not json', 'application/json')).status).toBe(400);
      expect((await post(handler, `message_body=${'a'.repeat(300 * 1024)}`)).status).toBe(413);
      expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
      expect(await messageCount(h)).toBe(0);
    });

    it('MTS answering 500 and 429 delays the message; it goes later, exactly once', async () => {
      h.mts.failNext(2, 500);
      h.mts.failNext(1, 429);
      const sent = await h.b24.sendFromCard({ to: '+375291234567', text: 'retry me' });
      await waitFor(
        () => h.b24.latestStatus(sent.messageId) === 'delivered',
        'delivered after retries',
        20_000,
      );
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const m = await getMessageByB24Id(h.db.conn, portalId, sent.messageId);
      expect(h.mts.countByExtraId(m?.id as string)).toBe(1);
      expect(m?.attempts).toBeGreaterThanOrEqual(2);
    });

    it('Bitrix24 down: statuses wait and arrive after it is back', async () => {
      h.b24.setOutage(true);
      const sent = await h.b24.sendFromCard({ to: '+375291234567', text: 'during outage' });
      expect(sent.status).toBe(200);
      await waitFor(() => h.mts.sent.length === 1, 'MTS submit');
      await new Promise((r) => setTimeout(r, 500));
      expect(h.b24.latestStatus(sent.messageId)).toBeUndefined();
      h.b24.setOutage(false);
      await waitFor(
        () => h.b24.latestStatus(sent.messageId) === 'delivered',
        'delivered after the outage',
        25_000,
      );
    });
  });
}
