import { afterEach, describe, expect, it } from 'vitest';
import { listPortals, type Portal, portalSettings } from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

async function post(url: string, form: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text() };
}

/** The fields of a stored portal an attacker would want to change. */
const guarded = (p: Portal | undefined) => ({
  access_token: p?.access_token,
  refresh_token: p?.refresh_token,
  application_token: p?.application_token,
  client_endpoint: p?.client_endpoint,
  server_endpoint: p?.server_endpoint,
  status: p?.status,
});

for (const dialect of DIALECTS) {
  describe(`app install and update verification on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    const portal = async () => (await listPortals(h.db.conn))[0];
    /** An ONAPPUPDATE form as Bitrix24 posts it, with the given tokens and application_token. */
    const updateForm = (
      p: Portal,
      o: { access: string; refresh: string; appToken: string; server?: string },
    ) => ({
      event: 'ONAPPUPDATE',
      'data[VERSION]': '2',
      'data[PREVIOUS_VERSION]': '1',
      'data[LANGUAGE_ID]': 'ru',
      'auth[access_token]': o.access,
      'auth[refresh_token]': o.refresh,
      'auth[expires_in]': '3600',
      'auth[domain]': p.domain,
      'auth[member_id]': p.id,
      'auth[application_token]': o.appToken,
      'auth[client_endpoint]': p.client_endpoint,
      'auth[server_endpoint]': o.server ?? p.server_endpoint,
    });

    it('ONAPPUPDATE with a new application_token is verified, stored and re-registers the provider', async () => {
      h = await startHarness({ dialect });
      const before = await portal();
      const oldAppToken = h.b24.applicationToken;
      const oauthBefore = h.b24.oauthRequests;
      // The portal wipes our provider and issues a new application_token, then tells us.
      expect(await h.b24.install(h.url, 'ONAPPUPDATE')).toBe(200);
      expect(h.b24.applicationToken).not.toBe(oldAppToken);
      expect(h.b24.oauthRequests).toBeGreaterThan(oauthBefore);
      const after = await portal();
      expect(after?.application_token).toBe(h.b24.applicationToken);
      expect(after?.access_token).not.toBe(before?.access_token);
      expect(portalSettings(after as Portal).adminUserId).toBe(1);
      expect(h.b24.senders.map((s) => s.CODE)).toEqual(['mts_sms_by']);
      // A message with an author carries the new application_token: it is taken and sent.
      const sent = await h.b24.sendFromCard({ to: '+375291234567', text: 'after the update' });
      expect(sent.status).toBe(200);
      await waitFor(() => h.b24.latestStatus(sent.messageId) === 'delivered', 'delivered');
    });

    it('forged updates are refused and change nothing', async () => {
      h = await startHarness({ dialect });
      const p = (await portal()) as Portal;
      const before = guarded(p);
      const oauthBefore = h.b24.oauthRequests;

      // Made-up tokens, at our trusted OAuth server: the refresh fails.
      const madeUp = await post(
        `${h.url}/b24/events`,
        updateForm(p, { access: 'x', refresh: 'made-up', appToken: 'attacker' }),
      );
      expect(madeUp.status).toBe(403);
      expect(madeUp.body).toMatch(/could not be verified/);

      // A server_endpoint of the attacker's own: never contacted.
      const oauthMid = h.b24.oauthRequests;
      const evil = await post(
        `${h.url}/b24/events`,
        updateForm(p, {
          access: 'x',
          refresh: 'y',
          appToken: 'attacker',
          server: 'https://oauth.evil.example/rest/',
        }),
      );
      expect(evil.status).toBe(403);
      expect(evil.body).toMatch(/not a trusted OAuth server/);
      expect(h.b24.oauthRequests).toBe(oauthMid);

      // Genuine tokens of a portal user who is not an administrator (any user who opens the
      // app page gets a pair): refreshed fine, but refused.
      const manager = h.b24.issueTokens(2);
      const notAdmin = await post(
        `${h.url}/b24/events`,
        updateForm(p, {
          access: manager.accessToken,
          refresh: manager.refreshToken,
          appToken: 'attacker',
        }),
      );
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body).toMatch(/not an administrator/);

      // No tokens at all, with a new application_token: nothing to verify it with.
      const {
        'auth[access_token]': _a,
        'auth[refresh_token]': _r,
        ...tokenless
      } = updateForm(p, {
        access: '',
        refresh: '',
        appToken: 'attacker',
      });
      expect((await post(`${h.url}/b24/events`, tokenless)).status).toBe(403);

      // A reinstall that knows the current application_token but not the tokens.
      const reinstall = await post(`${h.url}/b24/install`, {
        ...updateForm(p, { access: 'x', refresh: 'made-up', appToken: h.b24.applicationToken }),
        event: 'ONAPPINSTALL',
      });
      expect(reinstall.status).toBe(403);

      expect(guarded(await portal())).toEqual(before);
      expect(h.b24.oauthRequests).toBeGreaterThan(oauthBefore);
      // The provider still works with the real application_token.
      const sent = await h.b24.sendFromCard({ to: '+375291234567', text: 'still ours' });
      expect(sent.status).toBe(200);
    });

    it('B24_OAUTH_URL is an allow-list: a posted server on it is used, one off it refused unasked', async () => {
      h = await startHarness({
        dialect,
        env: (d) => ({ B24_OAUTH_URL: `https://oauth.bitrix.info, ${d.B24_OAUTH_URL}` }),
      });
      // The emulator names its own OAuth server, second on the list: verified there, stored.
      expect((await portal())?.server_endpoint).toBe(h.b24.restBase);
      await h.close();

      h = await startHarness({
        dialect,
        install: false,
        env: { B24_OAUTH_URL: 'https://oauth.bitrix.info' },
      });
      const oauthBefore = h.b24.oauthRequests;
      expect(await h.b24.install(h.url)).toBe(403);
      expect(h.b24.oauthRequests).toBe(oauthBefore);
      expect(await listPortals(h.db.conn)).toEqual([]);
    });
  });
}
