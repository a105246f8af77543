import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('admin page, API, health and metrics', () => {
  let h: Harness;
  const TOKEN = 'admin-secret-token-123';
  beforeAll(async () => {
    h = await startHarness({ dialect: 'sqlite', env: { ADMIN_TOKEN: TOKEN } });
    const s = await h.b24.sendFromCard({ to: '+375291234567', text: 'hello' });
    await waitFor(() => h.b24.latestStatus(s.messageId) === 'delivered', 'delivered');
  });
  afterAll(() => h.close());

  it('the API needs the admin token and masks phone numbers', async () => {
    expect((await fetch(`${h.url}/api/overview`)).status).toBe(401);
    expect(
      (await fetch(`${h.url}/api/overview`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const o = (await (
      await fetch(`${h.url}/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { portals: unknown[]; byDay: { key: string; delivered: number }[] };
    const one = { total: 1, submitted: 1, delivered: 1, undelivered: 0, failed: 0, pending: 0 };
    expect(o).toMatchObject({
      sandbox: false,
      database: 'sqlite',
      today: { ...one, delivery_rate: 1 },
      last30: { ...one, delivery_rate: 1 },
      bySender: [{ key: 'SANDBOX', submitted: 1, delivered: 1, pending: 0 }],
      byType: [{ key: 'card', delivered: 1 }],
      backlog: { waiting: 0, oldestCreatedAt: null, lanes: [], lines: [] },
    });
    expect(o.byDay).toHaveLength(30);
    expect(o.byDay.map((d) => d.delivered).reduce((a, b) => a + b)).toBe(1);
    expect(o.byDay.at(-1)).toMatchObject({ delivered: 1 });
    expect(o.portals).toHaveLength(1);
    // The portal pickers' list.
    expect((await fetch(`${h.url}/api/portals`)).status).toBe(401);
    expect(
      await (
        await fetch(`${h.url}/api/portals`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json(),
    ).toEqual([{ id: h.b24.memberId, domain: h.b24.domain, status: 'active' }]);

    const stats = (await (
      await fetch(`${h.url}/api/stats?by=type`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { by: string; rows: unknown[] };
    expect(stats).toMatchObject({ by: 'type', rows: [{ key: 'card', delivered: 1 }] });
    const wrongBy = await fetch(`${h.url}/api/stats?by=colour`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(wrongBy.status).toBe(400);
    expect((await fetch(`${h.url}/api/stats`)).status).toBe(401);
    const msgs = (await (
      await fetch(`${h.url}/api/messages?state=DELIVRD`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { phone: string }[];
    expect(msgs).toHaveLength(1);
    expect(msgs[0]?.phone).toBe('+375 29 ***-**-67');
    expect(JSON.stringify(msgs)).not.toContain('1234567');
  });

  it('finds the message by its number typed another way and shows its whole history', async () => {
    const get = (path: string, token = TOKEN) =>
      fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get('/api/messages?phone=8029 123 45 67', 'wrong')).status).toBe(401);
    const found = (await (
      await get(`/api/messages?phone=${encodeURIComponent('8 (029) 123-45-67')}`)
    ).json()) as { id: string; b24_message_id: string }[];
    expect(found).toHaveLength(1);
    expect((await (await get('/api/messages?phone=291112233')).json()) as unknown[]).toEqual([]);
    const bad = await get('/api/messages?phone=12345');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^phone: /);
    expect((await get('/api/messages?from=yesterday')).status).toBe(400);

    const id = found[0]?.id as string;
    expect((await get(`/api/messages/${id}`, 'wrong')).status).toBe(401);
    expect((await get('/api/messages/no-such-message')).status).toBe(404);
    const history = (await (await get(`/api/messages/${id}`)).json()) as {
      message: Record<string, unknown>;
      steps: { at: number; kind: string; detail: Record<string, unknown> }[];
    };
    expect(history.message).toMatchObject({
      text: 'hello',
      phone: '+375 29 ***-**-67',
      state: 'DELIVRD',
      b24PushedStatus: 'delivered',
      parts: 1,
      encoding: 'GSM-7',
    });
    const kinds = history.steps.map((s) => s.kind);
    expect(kinds[0]).toBe('received');
    expect(kinds).toContain('accept');
    const report = history.steps.find((s) => s.kind === 'report');
    expect(report?.detail).toMatchObject({ source: 'dlr', state: 'DELIVRD' });
    const lastPush = history.steps.filter((s) => s.kind === 'push').at(-1);
    expect(lastPush?.detail).toEqual({ status: 'delivered' });
    // In time order: received, accepted, reported, pushed.
    const at = (k: string) => history.steps.findIndex((s) => s.kind === k);
    expect(at('received')).toBeLessThan(at('accept'));
    expect(at('accept')).toBeLessThan(at('report'));
    expect(history.steps.indexOf(lastPush as never)).toBeGreaterThan(at('report'));
    expect(history.steps.map((s) => s.at)).toEqual(
      [...history.steps.map((s) => s.at)].sort((a, b) => a - b),
    );
    expect(JSON.stringify(history)).not.toContain('1234567');
  });

  it('a login sets an HttpOnly SameSite cookie; a change with it needs the CSRF token; no token in URLs', async () => {
    const loginWith = (token: string) =>
      fetch(`${h.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    expect((await loginWith('wrong')).status).toBe(401);
    const ok = await loginWith(TOKEN);
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^b24mts_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    expect(setCookie).not.toContain(TOKEN);
    const { csrf } = (await ok.json()) as { csrf: string };
    const cookie = setCookie.split(';')[0] as string;
    const withCookie = (path: string, init: RequestInit = {}) =>
      fetch(`${h.url}${path}`, { ...init, headers: { cookie, ...(init.headers ?? {}) } });

    expect((await withCookie('/api/overview')).status).toBe(200);
    expect(await (await withCookie('/api/session')).json()).toMatchObject({
      authenticated: true,
      csrf,
    });
    // A forged or altered cookie opens nothing.
    const forged = `${cookie.slice(0, -3)}abc`;
    expect((await fetch(`${h.url}/api/overview`, { headers: { cookie: forged } })).status).toBe(
      401,
    );
    // The token in a URL opens nothing any more.
    expect((await fetch(`${h.url}/api/overview?token=${TOKEN}`)).status).toBe(401);
    expect(await (await fetch(`${h.url}/?token=${TOKEN}`)).text()).not.toContain('last 30 days');
    // A change with the cookie alone (what a forged cross-site request could send) is refused.
    const noCsrf = await withCookie('/api/session', { method: 'DELETE' });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: string }).error).toBe('csrf');
    expect(
      (await withCookie('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': 'x' } }))
        .status,
    ).toBe(403);
    const out = await withCookie('/api/session', {
      method: 'DELETE',
      headers: { 'x-csrf-token': csrf },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^b24mts_session=; .*Max-Age=0/);
  });

  it('the admin page at / holds no data, speaks the browser’s language, and may not be framed', async () => {
    const page = async (acceptLanguage?: string) => {
      const res = await fetch(`${h.url}/`, {
        headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {},
      });
      return { res, html: await res.text() };
    };
    const { res, html } = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(html).toContain('<div id="app"');
    expect(html).toContain('<meta name="b24mts-view" content="standalone">');
    expect(html).not.toContain('b24mts-app-token');
    expect(html).not.toContain(h.b24.domain);
    // Russian without a preference and for Russian or Belarusian readers; English otherwise.
    expect(html).toContain('<html lang="ru"');
    for (const [header, lang] of [
      ['be-BY,be;q=0.9,en;q=0.5', 'ru'],
      ['ru-RU,ru;q=0.9', 'ru'],
      ['en-US,en;q=0.9,ru;q=0.8', 'en'],
      ['de-DE,ru;q=0.5', 'en'],
      ['en;q=0.2,ru;q=0.9', 'ru'],
    ] as const)
      expect((await page(header)).html, header).toContain(
        `<meta name="b24mts-lang" content="${lang}">`,
      );
    // Its script is served from the package, cached for good (the name carries a hash).
    const src = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1] as string;
    expect(src).toMatch(/^\/app\/assets\/index-[\w-]+\.js$/);
    const js = await fetch(`${h.url}${src}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    // Nothing outside the built assets, however the path is written (sent as written: fetch
    // would resolve the dots itself).
    const base = new URL(h.url);
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) =>
        request({ host: base.hostname, port: base.port, path }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end(),
      );
    expect((await raw(src)).status).toBe(200);
    for (const path of [
      '/app/assets/../../package.json',
      '/app/assets/..%2f..%2fpackage.json',
      '/app/assets/%2e%2e/%2e%2e/package.json',
      '/app/assets/../../../../etc/passwd',
    ]) {
      const r = await raw(path);
      expect([403, 404], path).toContain(r.status);
      expect(r.body, path).not.toMatch(/"name": "b24-mts-sms"|root:/);
    }
  });

  it('the in-portal page opens only by a verified POST', async () => {
    // A POST that Bitrix24 did not make (no such portal, a made-up AUTH_ID) shows nothing.
    const forged = (lang?: string) =>
      fetch(`${h.url}/b24/app${lang ? `?LANG=${lang}` : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'AUTH_ID=x&member_id=y',
      });
    const en = await forged('en');
    expect(en.status).toBe(403);
    const enText = await en.text();
    expect(enText).toContain('This page opens only from the Bitrix24 portal');
    expect(enText).not.toContain('b24mts-app-token');
    // Russian by default, and for a Russian or Belarusian portal.
    for (const lang of [undefined, 'ru', 'by'])
      expect(await (await forged(lang)).text()).toContain(
        'Эта страница открывается только из Битрикс24',
      );
    // A plain GET explains where the app lives, with no data.
    const get = await fetch(`${h.url}/b24/app?LANG=en`);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('The SMS provider <b>MTS Belarus SMS</b>');
  });

  it('readyz and metrics report the database and the messages', async () => {
    expect(await (await fetch(`${h.url}/readyz`)).json()).toEqual({
      ok: true,
      database: 'sqlite',
      sending: { paused: [], holds: [], pace: { default: 1 } },
    });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    // Scrapes read waiting rows only: final states are not counted by state any more.
    expect(metrics).toMatch(/b24mts_messages\{state="queued"\} 0/);
    expect(metrics).not.toMatch(/b24mts_messages\{state="DELIVRD"\}/);
    expect(metrics).toMatch(/# HELP b24mts_backlog_messages Waiting messages by MTS contract/);
    expect(metrics).toMatch(/b24mts_backlog_oldest_age_seconds 0/);
    expect(metrics).toMatch(/b24mts_dlr_received_total\{kind="changed"\} 1/);
    expect(metrics).toMatch(/b24mts_queue_depth 0/);
    expect(metrics).toMatch(/b24mts_b24_rest_requests_total\{portal="[^"]+"\} [1-9]/);
  });

  it('a test SMS from the admin app is sent and its history shows it delivered', async () => {
    const login = await fetch(`${h.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    const { csrf } = (await login.json()) as { csrf: string };
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const send = (body: unknown, headers: Record<string, string>) =>
      fetch(`${h.url}/api/test-sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const sms = { to: '8 029 765-43-21', text: 'Test from the admin app' };
    // The cookie alone (a cross-site form could send it) is refused, and nothing is queued.
    expect((await send(sms, { cookie })).status).toBe(403);
    expect(h.mts.sent).toHaveLength(1);
    const bad = await send({ ...sms, to: '+375 17 123-45-67' }, { cookie, 'x-csrf-token': csrf });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/landline|mobile/i);
    expect((await send({ to: sms.to }, { cookie, 'x-csrf-token': csrf })).status).toBe(400);

    const ok = await send(sms, { cookie, 'x-csrf-token': csrf, 'x-request-id': 'trace-42' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('trace-42');
    const { id } = (await ok.json()) as { id: string; state: string };
    const history = await waitFor(async () => {
      const r = (await (
        await fetch(`${h.url}/api/messages/${id}`, { headers: { cookie } })
      ).json()) as { message: { state: string }; steps: { kind: string; detail: unknown }[] };
      return r.message.state === 'DELIVRD' ? r : null;
    }, 'the test SMS delivered');
    expect(history.steps.map((s) => s.kind)).toEqual(['received', 'accept', 'report']);
    // The request that brought it, findable in the log by the same id.
    expect(history.steps[0]).toMatchObject({ detail: { requestId: 'trace-42' } });
    expect(h.mts.sent.at(-1)).toMatchObject({ text: sms.text });
    // Scripts use the Bearer header, no CSRF token needed.
    expect((await send(sms, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('Bitrix24 unreachable: the overview says how many statuses wait, and why', async () => {
    const overview = async () =>
      (await (
        await fetch(`${h.url}/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as {
        bitrix24: { domain: string; waiting: number; failing: number; error: string | null }[];
      };
    expect((await overview()).bitrix24).toEqual([]);
    h.b24.setOutage(true);
    try {
      const sent = await h.b24.sendFromCard({ to: '+375291234599', text: 'while it is down' });
      expect(sent.status).toBe(200);
      const waiting = await waitFor(
        async () => (await overview()).bitrix24.find((b) => b.failing > 0),
        'a failing push in the overview',
        15_000,
        200,
      );
      expect(waiting).toMatchObject({ domain: h.b24.domain, waiting: 1, failing: 1 });
      expect(waiting.error).toMatch(/503|unavailable|HTTP/i);
    } finally {
      h.b24.setOutage(false);
    }
    await waitFor(
      async () => (await overview()).bitrix24.length === 0,
      'the statuses pushed once Bitrix24 is back',
      30_000,
      200,
    );
  });
});
