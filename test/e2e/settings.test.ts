import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerCode } from '../../src/core/register.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'admin-secret-token-456';

describe('settings per portal and a Sender ID chosen in the CRM', () => {
  let h: Harness;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${h.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
  const put = (body: unknown) =>
    api('/api/settings', { method: 'PUT', body: JSON.stringify(body) });

  beforeAll(async () => {
    h = await startHarness({
      dialect: 'sqlite',
      env: { ADMIN_TOKEN: TOKEN, SECRET_KEY: 'a-secret-key-of-32-characters-or-more!!' },
    });
  });
  afterAll(() => h.close());

  it('shows what applies and where it comes from', async () => {
    expect((await fetch(`${h.url}/api/settings`)).status).toBe(401);
    const s = await (await api('/api/settings')).json();
    expect(s).toMatchObject({
      portal: { domain: h.b24.domain },
      sender: { value: 'SANDBOX', from: 'configuration' },
      senderMarketing: { value: 'SANDBOXMKT', from: 'configuration' },
      senders: [],
      timelineNotes: { value: true, from: 'configuration' },
      mts: { contract: 'default', rate: 50 },
      consentField: { value: 'UF_CRM_SMS_CONSENT', from: 'configuration' },
    });
    expect((await api(`/api/settings?portal=nope.bitrix24.by`)).status).toBe(404);
  });

  it('refuses a wrong setting with words that name it, and changes nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ sender: 'TWELVE-CHARS' }, /^sender: "TWELVE-CHARS": an alpha name is at most 11/],
      [{ senders: ['OK', 'Привет'] }, /^senders: "Привет": an alpha name uses GSM-7/],
      [{ quietHours: '25:00-09:00' }, /^quietHours: /],
      [{ colour: 'red' }, /unknown setting "colour"/],
      [{ timelineNotes: 'yes' }, /^timelineNotes: /],
      [{ mts: { clientId: 'abc', login: 'l', password: 'p' } }, /^mts\.clientId: /],
      [{ mts: { clientId: '42' } }, /^mts\.login: login and password \(or a token\)/],
      [{ mts: { clientId: '42', login: 'l', password: 'p', rate: 0 } }, /^mts\.rate: /],
    ];
    for (const [body, message] of cases) {
      const r = await put(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as { message: string }).message).toMatch(message);
    }
    const s = (await (await api('/api/settings')).json()) as { sender: { from: string } };
    expect(s.sender.from).toBe('configuration');
  });

  it('a change with the session cookie needs the CSRF token', async () => {
    const login = await fetch(`${h.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf } = (await login.json()) as { csrf: string };
    const viaCookie = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/settings`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ timelineNotes: false }),
      });
    expect((await viaCookie({})).status).toBe(403);
    const ok = await viaCookie({ 'x-csrf-token': csrf });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ timelineNotes: { value: false, from: 'portal' } });
  });

  it('Sender IDs: the default changes at once; extra ones become providers a card send and a robot can choose', async () => {
    const r = await put({ sender: 'SHOP', senders: ['CLINIC', 'Dr. Ivanov'] });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      sender: { value: 'SHOP', from: 'portal' },
      senders: ['CLINIC', 'Dr. Ivanov'],
      registration: { ok: true },
    });
    const codes = h.b24.senders.map((s) => s.CODE).sort();
    expect(codes).toEqual(['mts_sms_by', 'mts_sms_by.CLINIC', providerCode('Dr. Ivanov')].sort());
    expect(providerCode('Dr. Ivanov')).toMatch(/^mts_sms_by\.Dr\.-Ivanov-[0-9a-f]{6}$/);
    const robot = h.b24.robots.find((x) => x.CODE === 'mts_sms_robot');
    expect(JSON.stringify(robot)).toContain('Dr. Ivanov');

    // The default provider now sends as SHOP; the CLINIC provider as CLINIC, and its status
    // goes back under its own CODE.
    const plain = await h.b24.sendFromCard({ to: '+375291110001', text: 'default' });
    const clinic = await h.b24.sendFromCard({
      to: '+375291110002',
      text: 'chosen',
      code: 'mts_sms_by.CLINIC',
    });
    await waitFor(() => h.b24.latestStatus(clinic.messageId) === 'delivered', 'delivered');
    await waitFor(() => h.b24.latestStatus(plain.messageId) === 'delivered', 'delivered');
    const alphaOf = (text: string) => h.mts.sent.find((s) => s.text === text)?.alphaName;
    expect(alphaOf('default')).toBe('SHOP');
    expect(alphaOf('chosen')).toBe('CLINIC');
    expect(
      h.b24.statusUpdates.filter((u) => u.messageId === clinic.messageId).map((u) => u.code),
    ).toEqual(expect.arrayContaining(['mts_sms_by.CLINIC']));
    expect(
      h.b24.statusUpdates.filter(
        (u) => u.messageId === clinic.messageId && u.code === 'mts_sms_by',
      ),
    ).toEqual([]);

    // A robot that chose an extra Sender ID sends with it; one not in the list is refused.
    const contact = h.b24.addContact({
      NAME: 'Анна',
      PHONE: [{ VALUE: '+375291110003', VALUE_TYPE: 'MOBILE' }],
    });
    const deal = h.b24.addDeal({ TITLE: 'Deal', CONTACT_ID: contact });
    const run = (sender: string) =>
      h.b24.runRobot({
        code: 'mts_sms_robot',
        documentId: ['crm', 'CCrmDocumentDeal', `DEAL_${deal}`],
        properties: { text: `robot ${sender}`, message_type: 'transactional', sender },
      });
    const good = await run('Dr. Ivanov');
    const bad = await run('OTHER');
    const answer = (token: string) =>
      waitFor(
        () => h.b24.bizprocEvents.find((e) => e.eventToken === token),
        'bizproc.event.send',
        15_000,
      );
    expect((await answer(good.eventToken)).returnValues).toMatchObject({ error: '' });
    expect((await answer(bad.eventToken)).returnValues).toMatchObject({
      error: expect.stringMatching(/Sender ID "OTHER" is not one of this portal's/),
    });
    await waitFor(() => alphaOf('robot Dr. Ivanov'), 'the robot SMS at MTS');
    expect(alphaOf('robot Dr. Ivanov')).toBe('Dr. Ivanov');

    // Dropping the extra Sender IDs removes their providers.
    expect(await (await put({ senders: [] })).json()).toMatchObject({ registration: { ok: true } });
    expect(h.b24.senders.map((s) => s.CODE)).toEqual(['mts_sms_by']);
  });

  it('an own MTS contract: secrets are write-only and kept when only the rate changes', async () => {
    const secret = 'very-secret-password-1';
    const r = await put({
      mts: { clientId: '4242', login: 'shop-api', password: secret, rate: 5 },
    });
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({
      mts: { contract: 'own', clientId: '4242', login: 'shop-api', password: 'set', rate: 5 },
    });
    const again = await (await put({ mts: { rate: 7 } })).json();
    expect(again).toMatchObject({ mts: { contract: 'own', password: 'set', rate: 7 } });
    // A password alone keeps the login; a new address needs the password again (the stored
    // one is never sent elsewhere); 'default' cannot come with contract fields.
    expect(await (await put({ mts: { password: 'new-password-2' } })).json()).toMatchObject({
      mts: { login: 'shop-api', password: 'set' },
    });
    const moved = await put({ mts: { url: 'https://elsewhere.example' } });
    expect(moved.status).toBe(400);
    expect(((await moved.json()) as { message: string }).message).toMatch(
      /^mts\.url: a new MTS address or client id needs the password/,
    );
    const both = await put({ mts: { url: 'https://elsewhere.example', password: 'p3' } });
    expect(both.status).toBe(200);
    expect(await both.json()).toMatchObject({ mts: { url: 'https://elsewhere.example' } });
    const back = await (await put({ mts: 'default' })).json();
    expect(back).toMatchObject({ mts: { contract: 'default' } });
  });

  it("a test SMS for a portal goes with that portal's Sender ID; without one, the configured", async () => {
    const send = (body: unknown) =>
      api('/api/test-sms', { method: 'POST', body: JSON.stringify(body) });
    const bad = await send({ to: '+375291110044', text: 'x', portal: 'nope.bitrix24.by' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(
      /^portal: No installed portal/,
    );
    const mine = await send({ to: '+375291110044', text: 'portal test', portal: h.b24.domain });
    expect(mine.status).toBe(200);
    const plain = await send({ to: '+375291110045', text: 'plain test' });
    expect(plain.status).toBe(200);
    const alphaOf = (text: string) => h.mts.sent.find((m) => m.text === text)?.alphaName;
    await waitFor(() => alphaOf('portal test') && alphaOf('plain test'), 'both at MTS');
    expect(alphaOf('portal test')).toBe('SHOP');
    expect(alphaOf('plain test')).toBe('SANDBOX');
    const today = (await (await api('/api/stats?by=type')).json()) as {
      rows: { key: string }[];
    };
    expect(today.rows.map((r) => r.key)).toContain('test');
  });

  it("a portal's own consent field: marketing follows it from the moment it is set", async () => {
    h.b24.addUserField('contact', 'MY_OK', 'boolean');
    h.b24.addContact({
      NAME: 'Olga',
      PHONE: [{ VALUE: '+375291110055', VALUE_TYPE: 'MOBILE' }],
      UF_CRM_SMS_CONSENT: '0',
      UF_CRM_MY_OK: '1',
    });
    const marketing = async (text: string) => {
      const s = await h.b24.sendFromCard({ to: '+375291110055', text, moduleId: 'sender' });
      await waitFor(
        () => ['failed', 'delivered'].includes(h.b24.latestStatus(s.messageId) ?? ''),
        'a final status',
      );
      return h.b24.latestStatus(s.messageId);
    };
    expect(await marketing('offer one')).toBe('failed');
    const bad = await put({ consentField: 'my field' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^consentField: /);
    expect(await (await put({ consentField: 'UF_CRM_MY_OK' })).json()).toMatchObject({
      consentField: { value: 'UF_CRM_MY_OK', from: 'portal' },
    });
    expect(await marketing('offer two')).toBe('delivered');
    expect(h.mts.sent.map((m) => m.text)).toContain('offer two');
    expect(h.mts.sent.map((m) => m.text)).not.toContain('offer one');
    // Back to the configured field.
    expect(await (await put({ consentField: '' })).json()).toMatchObject({
      consentField: { value: 'UF_CRM_SMS_CONSENT', from: 'configuration' },
    });
    expect(await marketing('offer three')).toBe('failed');
  });
});
