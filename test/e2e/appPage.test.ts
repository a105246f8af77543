import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertMessage } from '../../src/store/outbox.js';
import { seedPortal, testMessage } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'admin-secret-token-789';
const CONTACT_PHONE = '+375291110011';

/** The grant the page embeds for its own API calls. */
function tokenOf(html: string): string {
  const m = /<meta name="b24mts-app-token" content="([^"]+)">/.exec(html);
  if (!m) throw new Error(`no app token in the page:\n${html}`);
  return m[1] as string;
}

describe('the app inside Bitrix24: verified opens, one portal’s data, the CRM card tab', () => {
  let h: Harness;
  let contactId: number;
  let ownIds: string[];
  let otherPortalId: string;
  const appUrl = () => `${h.url}/b24/app`;
  const withApp = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${h.url}${path}`, {
      ...init,
      headers: {
        'x-app-token': token,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  beforeAll(async () => {
    h = await startHarness({ dialect: 'sqlite', env: { ADMIN_TOKEN: TOKEN } });
    contactId = h.b24.addContact({
      NAME: 'Анна',
      PHONE: [{ VALUE: '8 029 111-00-11', VALUE_TYPE: 'MOBILE' }],
    });
    const a = await h.b24.sendFromCard({ to: CONTACT_PHONE, text: 'to the contact' });
    const b = await h.b24.sendFromCard({ to: '+375291110022', text: 'to someone else' });
    for (const s of [a, b])
      await waitFor(() => h.b24.latestStatus(s.messageId) === 'delivered', 'delivered');
    const listed = (await (
      await fetch(`${h.url}/api/messages`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { id: string }[];
    ownIds = listed.map((m) => m.id);
    // Another portal's message, and one of no portal (a test SMS): never shown inside this one.
    await seedPortal(h.db.conn, 'other-member', 'other.bitrix24.by');
    const other = await insertMessage(
      h.db.conn,
      testMessage({ portalId: 'other-member', phone: CONTACT_PHONE }),
      Date.now(),
    );
    otherPortalId = other.message.id;
    await insertMessage(h.db.conn, testMessage({ portalId: null, source: 'test' }), Date.now());
  });
  afterAll(() => h.close());

  it('registration adds an SMS tab to deal, contact and lead cards', () => {
    expect(h.b24.placements.map((p) => [p.placement, p.handler]).sort()).toEqual(
      ['CRM_CONTACT_DETAIL_TAB', 'CRM_DEAL_DETAIL_TAB', 'CRM_LEAD_DETAIL_TAB'].map((p) => [
        p,
        appUrl(),
      ]),
    );
  });

  it('the app page opened by the portal shows that portal only, and may be framed by it alone', async () => {
    const page = await h.b24.openApp(appUrl());
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      `frame-ancestors https://${h.b24.domain} ${h.b24.url}`,
    );
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(page.body).toContain('<meta name="b24mts-view" content="app">');
    const token = tokenOf(page.body);

    const o = (await (await withApp(token, '/api/overview')).json()) as Record<string, unknown>;
    expect(o).toMatchObject({
      portal: { domain: h.b24.domain },
      today: { total: 2, delivered: 2 },
      waiting: 0,
    });
    expect(o).not.toHaveProperty('portals');
    expect(o).not.toHaveProperty('backlog');
    // The portal picker's list: this portal alone (the operator sees both).
    expect(await (await withApp(token, '/api/portals')).json()).toEqual([
      { id: h.b24.memberId, domain: h.b24.domain, status: 'active' },
    ]);
    const all = (await (
      await fetch(`${h.url}/api/portals`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { domain: string }[];
    expect(all.map((p) => p.domain).sort()).toEqual([h.b24.domain, 'other.bitrix24.by'].sort());
    const msgs = (await (await withApp(token, '/api/messages')).json()) as { id: string }[];
    expect(msgs.map((m) => m.id).sort()).toEqual([...ownIds].sort());
    expect((await withApp(token, `/api/messages/${otherPortalId}`)).status).toBe(404);
    expect((await withApp(token, `/api/messages/${ownIds[0]}`)).status).toBe(200);
    // Naming another portal changes nothing: the grant decides.
    const stats = (await (await withApp(token, '/api/stats?portal=other.bitrix24.by')).json()) as {
      rows: { submitted: number }[];
    };
    expect(stats.rows.reduce((n, r) => n + r.submitted, 0)).toBe(2);
    const settings = (await (
      await withApp(token, '/api/settings?portal=other.bitrix24.by')
    ).json()) as { portal: { domain: string } };
    expect(settings.portal.domain).toBe(h.b24.domain);
  });

  it('inside, an administrator may change what is theirs; a manager sees only a card tab', async () => {
    const admin = tokenOf((await h.b24.openApp(appUrl())).body);
    const put = (token: string, body: unknown) =>
      withApp(token, '/api/settings', { method: 'PUT', body: JSON.stringify(body) });
    expect((await put(admin, { timelineNotes: false })).status).toBe(200);
    // The MTS account, the REST limits, and (on the operator's shared MTS account) the Sender
    // IDs are the operator's.
    for (const body of [
      { mts: { url: 'https://elsewhere.example' } },
      { mts: 'default' },
      { restRate: 5 },
      { sender: 'OTHERBRAND' },
    ]) {
      const r = await put(admin, body);
      expect(r.status, JSON.stringify(body)).toBe(403);
      expect(((await r.json()) as { message: string }).message).toMatch(/operator/);
    }

    // A manager opening the app itself gets no grant; a card tab gives one for that record.
    const plain = await h.b24.openApp(appUrl(), { userId: 2 });
    expect(plain.body).not.toContain('b24mts-app-token');
    expect(plain.body).toContain('администраторам');
    const manager = tokenOf(
      (
        await h.b24.openApp(appUrl(), {
          userId: 2,
          placement: 'CRM_CONTACT_DETAIL_TAB',
          options: { ID: String(contactId) },
        })
      ).body,
    );
    expect((await withApp(manager, '/api/messages')).status).toBe(200);
    for (const path of [
      '/api/overview',
      '/api/portals',
      '/api/stats',
      '/api/campaigns',
      '/api/settings',
    ])
      expect((await withApp(manager, path)).status, path).toBe(403);
    const refused = await put(manager, { timelineNotes: true });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('forbidden');
    const sms = await withApp(manager, '/api/test-sms', {
      method: 'POST',
      body: JSON.stringify({ to: '+375291110033', text: 'hi' }),
    });
    expect(sms.status).toBe(403);
  });

  it('a forged or altered open gets nothing', async () => {
    const cases: Record<string, string>[] = [
      { APPLICATION_TOKEN: 'not-the-portals-token' },
      { member_id: 'someone-else' },
      { AUTH_ID: 'made-up-auth-id' },
      { PLACEMENT: 'CRM_DEAL_DETAIL_TAB', PLACEMENT_OPTIONS: '{"ID":"zero"}' },
    ];
    for (const override of cases) {
      const page = await h.b24.openApp(appUrl(), { override });
      expect(page.status, JSON.stringify(override)).toBe(403);
      expect(page.body).not.toContain('b24mts-app-token');
    }
    const token = tokenOf((await h.b24.openApp(appUrl())).body);
    const [payload, mac] = token.split('.') as [string, string];
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...grant, portalId: 'other-member' })).toString(
      'base64url',
    );
    expect((await withApp(`${widened}.${mac}`, '/api/overview')).status).toBe(401);
    expect((await withApp(`${token}x`, '/api/overview')).status).toBe(401);
  });

  it("the contact card's SMS tab lists the messages to that contact's numbers only", async () => {
    const tab = await h.b24.openApp(appUrl(), {
      placement: 'CRM_CONTACT_DETAIL_TAB',
      options: { ID: String(contactId) },
    });
    expect(tab.status).toBe(200);
    // The page is the card tab's view; its data comes from the API with the grant.
    expect(tab.body).toContain('<meta name="b24mts-view" content="card">');
    expect(tab.body).toContain('<meta name="b24mts-admin" content="true">');
    expect(tab.body).not.toContain('***-**-');
    const token = tokenOf(tab.body);
    const msgs = (await (await withApp(token, '/api/messages')).json()) as {
      id: string;
      phone: string;
    }[];
    expect(msgs.map((m) => m.phone)).toEqual(['+375 29 ***-**-11']);
    const otherRecord = ownIds.find((id) => id !== msgs[0]?.id) as string;
    expect((await withApp(token, `/api/messages/${otherRecord}`)).status).toBe(404);
    expect((await withApp(token, `/api/messages/${msgs[0]?.id}`)).status).toBe(200);
  });
});
