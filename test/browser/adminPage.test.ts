/// <reference lib="dom" />
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAppToken } from '../../src/http/appToken.js';
import { SANDBOX_MEMBER_ID } from '../../src/sandbox.js';
import { launchBrowser, pageErrors, shot } from '../helpers/browser.js';
import { type ServiceProcess, spawnCli } from '../helpers/child.js';
import { freePort, waitFor } from '../helpers/wait.js';

const TOKEN = 'browser-admin-token-42';
const SANDBOX_DOMAIN = 'sandbox.bitrix24.by';

/**
 * The admin page in headless Chromium, against the service as a user starts it: `serve` in
 * sandbox mode (its own emulators of MTS and of a Bitrix24 portal), with ADMIN_TOKEN set.
 * Each step leaves a screenshot in test-output/browser/.
 */
describe('the admin page in a real browser', () => {
  let dir: string;
  let service: ServiceProcess;
  let url: string;
  let portalUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  /** The test SMS sent from the page, by its id. */
  let testId: string;
  /** The sandbox app's client secret: it signs the page's grants. */
  let appSecret: string;
  let env: (port: number) => Record<string, string>;
  /** A CLI command run in the sandbox's folder, against its database and emulators. */
  const cli = async (args: string[]) => {
    const run = spawnCli(args, env(0), { cwd: dir });
    const code = await new Promise<number | null>((r) => run.child.once('exit', r));
    if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}:\n${run.output()}`);
    return run.stdout();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'b24mts-browser-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Campaigns send whatever the hour the test runs at.
    env = (p: number) => ({
      PORT: String(p),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${p}`,
      ADMIN_TOKEN: TOKEN,
      MARKETING_QUIET_HOURS: '',
      LOG_LEVEL: 'warn',
    });
    service = spawnCli(['serve'], env(port), { cwd: dir });
    // Up, and the sandbox portal installed (the sandbox file names its emulators).
    const sandbox = await waitFor(
      () => {
        try {
          return JSON.parse(readFileSync(join(dir, 'data', 'sandbox.json'), 'utf8')) as {
            endpoints: { b24: { oauthUrl: string; clientSecret: string } };
          };
        } catch {
          return undefined;
        }
      },
      `the sandbox to start:\n${service.output()}`,
      60_000,
      200,
    );
    portalUrl = sandbox.endpoints.b24.oauthUrl;
    appSecret = sandbox.endpoints.b24.clientSecret;
    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
    });
    page = await context.newPage();
    errors = pageErrors(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a login form and no data until the right ADMIN_TOKEN is given', async () => {
    await page.goto(url);
    await page.getByTestId('login').waitFor();
    expect(await page.getByTestId('overview').count()).toBe(0);
    await page.getByTestId('login-token').fill('not-the-token');
    await page.getByTestId('login-submit').click();
    await expect
      .poll(() => page.getByTestId('login-error').textContent())
      .toContain('Wrong token.');
    expect(await page.getByTestId('nav').count()).toBe(0);
    await shot(page, '01-login-refused');

    await page.getByTestId('login-token').fill(TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('overview').waitFor();
    // The session is a cookie the page's scripts cannot read, and the token is in no URL.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'b24mts_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(page.url()).not.toContain(TOKEN);
    // The operator's overview: every portal listed, no single portal's heading.
    await page.getByText(SANDBOX_DOMAIN).waitFor();
    expect(await page.getByTestId('overview-portal').count()).toBe(0);
    // The page holds no data of its own and is never cached or framed.
    const shell = await page.request.get(url);
    expect(shell.headers()['cache-control']).toBe('no-store');
    expect(shell.headers()['content-security-policy']).toBe("frame-ancestors 'none'");
    await shot(page, '02-overview');
  });

  it('sends a test SMS and watches it become Delivered', async () => {
    await page.getByTestId('nav-test').click();
    await page.getByTestId('test-to').fill('8 (029) 765-43-21');
    await page.getByTestId('test-text').fill('Проверка из браузера');
    await page.getByTestId('test-send').click();
    const state = page.getByTestId('history-state');
    await state.waitFor();
    // It is committed first (queued), then the sandbox's MTS accepts and reports delivery.
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 15_000 }).toBe('DELIVRD');
    expect(await state.textContent()).toContain('Delivered');
    const kinds = await page
      .getByTestId('history-steps')
      .locator('tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['received', 'accept', 'report']));
    expect(await page.getByTestId('history-phone').textContent()).toBe('+375 29 ***-**-21');
    await shot(page, '03-test-sms-delivered');
  });

  it('finds it by a differently written number and opens its history', async () => {
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('search-phone').fill('+375297654321');
    await page.getByTestId('search-submit').click();
    const rows = page.getByTestId('message-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('+375 29 ***-**-21');
    testId = (await rows.first().getAttribute('data-id')) as string;
    // Another number finds nothing; a number that cannot be a Belarus mobile says why.
    await page.getByTestId('search-phone').fill('29 111 11 11');
    await page.getByTestId('search-submit').click();
    await expect.poll(() => rows.count()).toBe(0);
    await page.getByTestId('search-phone').fill('12345');
    await page.getByTestId('search-submit').click();
    await expect.poll(() => page.getByTestId('search-error').textContent()).toContain('phone:');

    await page.getByTestId('search-phone').fill('29 765-43-21');
    await page.getByTestId('search-submit').click();
    await expect.poll(() => rows.count()).toBe(1);
    await shot(page, '04-messages-found');
    await rows.first().click();
    await page.getByTestId('history').waitFor();
    expect(await page.getByTestId('history-text').textContent()).toBe('Проверка из браузера');
    await expect
      .poll(() => page.getByTestId('history-state').getAttribute('data-state'))
      .toBe('DELIVRD');
    // The delivery report with MTS's codes in words, and its raw answer.
    const report = page.locator('[data-testid="history-steps"] tr[data-kind="report"]');
    expect(await report.textContent()).toContain('DELIVRD');
    await report.locator('summary').click();
    await shot(page, '04-message-history');
  });

  it('steers a campaign: its estimate, start, progress, pause, cancel', async () => {
    await page.getByTestId('nav-campaigns').click();
    await page.getByTestId('no-campaigns').waitFor();
    const created = JSON.parse(
      await cli([
        'campaign',
        'create',
        '--name',
        'Зимняя распродажа',
        '--entity',
        'contact',
        '--text',
        'Скидки до 30% до воскресенья',
        '--json',
      ]),
    ) as { id: number; recipients: number };
    expect(created.recipients).toBeGreaterThan(0);
    await page.reload();
    await page.getByTestId('nav-campaigns').click();
    const card = page.getByTestId(`campaign-${created.id}`);
    await card.waitFor();
    expect(await card.textContent()).toContain(String(created.recipients));
    // Each move asks first, with the estimate; the page accepts.
    const asked: string[] = [];
    page.on('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await page.getByTestId(`campaign-${created.id}-start`).click();
    await page.getByTestId(`campaign-${created.id}-pause`).waitFor();
    expect(asked[0]).toContain(`${created.recipients} recipients`);
    await expect
      .poll(async () => Number(await card.getByTestId('progress-delivered').textContent()), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    await page.getByTestId(`campaign-${created.id}-pause`).click();
    await page.getByTestId(`campaign-${created.id}-resume`).waitFor();
    await shot(page, '05-campaign-paused');
    await page.getByTestId(`campaign-${created.id}-cancel`).click();
    await expect.poll(() => card.getByTestId('campaign-state').textContent()).toBe('Cancelled');
    expect(asked).toHaveLength(2);
    const api = (await (await page.request.get(`${url}/api/campaigns/${created.id}`)).json()) as {
      state: string;
    };
    expect(api.state).toBe('cancelled');
  });

  it('shows the last phone-base scan and downloads its report', async () => {
    await page.getByTestId('nav-phones').click();
    await page.getByTestId('no-scans').waitFor();
    const tally = JSON.parse(await cli(['phones', 'scan', '--json'])) as { values: number };
    await page.reload();
    await page.getByTestId('nav-phones').click();
    await expect
      .poll(() => page.getByTestId('tally-values').first().textContent())
      .toBe(String(tally.values));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('scan-download').first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^phones-scan-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8').split('\n');
    expect(csv[0]).toBe('entity,id,value_id,value_type,original,normalized,verdict');
    expect(csv.filter((l) => l.trim()).length - 1).toBe(tally.values);
    await shot(page, '06-phone-base');
  });

  it('changes a setting and sees it applied', async () => {
    await page.getByTestId('nav-settings').click();
    const quiet = page.getByTestId('settings-quiet');
    // The sandbox runs without quiet hours (MARKETING_QUIET_HOURS=''): the portal gets its own.
    await expect.poll(() => page.getByTestId('settings-sender').inputValue()).toBe('SANDBOX');
    expect(await quiet.inputValue()).toBe('');
    await quiet.fill('22:30-08:15');
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-notice').textContent()).toBe('Saved.');
    // Applied: the service answers the new value for the portal, and a reload shows it.
    const api = await page.request.get(`${url}/api/settings`);
    expect(await api.json()).toMatchObject({
      quietHours: { value: '22:30-08:15', from: 'portal' },
    });
    await page.reload();
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => page.getByTestId('settings-quiet').inputValue()).toBe('22:30-08:15');
    // A wrong value is refused with the reason, and nothing changes.
    await page.getByTestId('settings-sender').fill('TOOLONGSENDERNAME');
    await page.getByTestId('settings-sender').evaluate((el: HTMLInputElement) => {
      el.removeAttribute('maxlength');
      el.value = 'BAD SENDER ÿ';
      el.dispatchEvent(new Event('input'));
    });
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-error').textContent()).toContain('sender');
    expect(
      (
        (await (await page.request.get(`${url}/api/settings`)).json()) as {
          sender: { value: string };
        }
      ).sender.value,
    ).toBe('SANDBOX');
    await shot(page, '07-settings');
  });

  it('switches language, and keeps the choice', async () => {
    await page.getByTestId('lang-ru').click();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Сводка');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ru');
    await page.getByTestId('nav-overview').click();
    await page.getByTestId('overview').waitFor();
    const today = (await (await page.request.get(`${url}/api/overview`)).json()) as {
      today: { delivered: number };
    };
    await expect
      .poll(() => page.getByTestId('today-delivered').textContent())
      .toBe(String(today.today.delivered));
    expect(await page.getByTestId('figures-today').textContent()).toContain('Доставлено');
    await shot(page, '08-overview-ru');
    await page.reload();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Сводка');
    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Overview');
  });

  it('a wrong grant and a forged open from "Bitrix24" get nothing', async () => {
    const stranger = await browser.newContext();
    const p = await stranger.newPage();
    const overviewWith = (token: string) =>
      p.request.get(`${url}/api/overview`, { headers: { 'x-app-token': token } });
    const grant = {
      portalId: SANDBOX_MEMBER_ID,
      userId: 1,
      admin: true,
      expiresAt: Date.now() + 600_000,
    };
    // A grant signed with the app's secret opens that portal's figures; the same grant signed
    // with another key, or expired, opens nothing.
    expect((await overviewWith(issueAppToken(appSecret, grant))).status()).toBe(200);
    for (const forged of [
      issueAppToken('not-the-secret', grant),
      issueAppToken(appSecret, { ...grant, expiresAt: Date.now() - 1000 }),
      'eyJwb3J0YWxJZCI6InNhbmRib3gifQ.forged',
    ]) {
      const r = await overviewWith(forged);
      expect(r.status()).toBe(401);
      expect(await r.text()).not.toContain(SANDBOX_DOMAIN);
    }
    // A page that posts the form Bitrix24 would, with a made-up AUTH_ID.
    await p.setContent(`<form method="post" action="${url}/b24/app?LANG=en">
      <input name="AUTH_ID" value="made-up"><input name="member_id" value="${SANDBOX_MEMBER_ID}">
      <input name="PLACEMENT" value="DEFAULT"></form>`);
    const [answer] = await Promise.all([
      p.waitForResponse((r) => r.url().startsWith(`${url}/b24/app`)),
      p.locator('form').evaluate((f: HTMLFormElement) => f.submit()),
    ]);
    expect(answer.status()).toBe(403);
    expect(answer.headers()['cache-control']).toBe('no-store');
    await p.waitForURL(`${url}/b24/app?LANG=en`);
    await p.waitForLoadState();
    const html = await p.content();
    expect(html).toContain('This page opens only from the Bitrix24 portal');
    expect(html).not.toContain('b24mts-app-token');
    await shot(p, '09-forged-open-refused');
    // No session, no data: the standalone page asks for the token.
    await p.goto(url);
    await p.getByTestId('login').waitFor();
    await stranger.close();
  });

  it('inside the emulated portal, the app shows that portal only', async () => {
    const inside = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const p = await inside.newPage();
    const insideErrors = pageErrors(p);
    await p.goto(`${portalUrl}/app`);
    const app = p.frameLocator('iframe[name="app"]');
    await app.getByTestId('overview').waitFor();
    expect(await app.getByTestId('overview-portal').textContent()).toBe(SANDBOX_DOMAIN);
    // Every message of today but the standalone test SMS (it went to no portal) is this
    // portal's: the figures inside leave that one out, and it cannot be found or opened.
    const operatorTotal = async () =>
      (
        (await (await page.request.get(`${url}/api/overview`)).json()) as {
          today: { total: number };
        }
      ).today.total;
    const before = await operatorTotal();
    await expect.poll(() => app.getByTestId('today-total').textContent()).toBe(String(before - 1));
    await app.getByTestId('nav-messages').click();
    await app.getByTestId('search-phone').fill('29 765-43-21');
    await app.getByTestId('search-submit').click();
    await app.getByTestId('no-messages').waitFor();
    const status = (id: string) =>
      app.getByTestId('messages').evaluate(async (_el, messageId) => {
        const token =
          document.querySelector('meta[name="b24mts-app-token"]')?.getAttribute('content') ?? '';
        return (await fetch(`/api/messages/${messageId}`, { headers: { 'x-app-token': token } }))
          .status;
      }, id);
    expect(await status(testId)).toBe(404);
    // A test SMS sent from inside is the portal's: delivered, listed, counted.
    await app.getByTestId('nav-test').click();
    await app.getByTestId('test-to').fill('+375 33 111-22-33');
    await app.getByTestId('test-send').click();
    await expect
      .poll(() => app.getByTestId('history-state').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('DELIVRD');
    await app.getByTestId('nav-messages').click();
    await app.getByTestId('search-phone').fill('8 033 1112233');
    await app.getByTestId('search-submit').click();
    const rows = app.getByTestId('message-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('+375 33 ***-**-33');
    expect(await status((await rows.first().getAttribute('data-id')) as string)).toBe(200);
    await app.getByTestId('nav-overview').click();
    await expect.poll(() => app.getByTestId('today-total').textContent()).toBe(String(before));
    // The portal's settings inside: the MTS contract is the operator's, shown as such.
    await app.getByTestId('nav-settings').click();
    await expect.poll(() => app.getByTestId('settings-quiet').inputValue()).toBe('22:30-08:15');
    expect(await app.getByTestId('settings-mts-own').isDisabled()).toBe(true);
    expect(await app.getByTestId('settings-sender').isDisabled()).toBe(true);
    // Not only greyed out: the service refuses the operator's settings from inside.
    const refused = await app.getByTestId('settings').evaluate(async () => {
      const token =
        document.querySelector('meta[name="b24mts-app-token"]')?.getAttribute('content') ?? '';
      const r = await fetch('/api/settings', {
        method: 'PUT',
        headers: { 'x-app-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ mts: { rate: 5 }, sender: 'OTHER' }),
      });
      return r.status;
    });
    expect(refused).toBe(403);
    await app.getByTestId('nav-overview').click();
    await app.getByTestId('overview').waitFor();
    await shot(p, '10-inside-bitrix24');
    // A CRM card's SMS tab: that record's messages only (none were sent to it).
    await p.goto(`${portalUrl}/app?placement=CRM_CONTACT_DETAIL_TAB&ID=1`);
    const tab = p.frameLocator('iframe[name="app"]');
    await tab.getByTestId('card-empty').waitFor();
    expect(await tab.getByTestId('message-row').count()).toBe(0);
    expect(await tab.getByTestId('nav').count()).toBe(0);
    await shot(p, '11-card-tab');
    expect(insideErrors.filter((e) => e.startsWith('exception'))).toEqual([]);
    await inside.close();
  });

  it('raised no script errors', () => {
    // 401s are expected (the login check, the wrong token); exceptions are not.
    expect(errors.filter((e) => e.startsWith('exception'))).toEqual([]);
  });
});
