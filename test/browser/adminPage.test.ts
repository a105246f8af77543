/// <reference lib="dom" />
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'b24mts-browser-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = spawnCli(
      ['serve'],
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: url,
        ADMIN_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
      },
      { cwd: dir },
    );
    // Up, and the sandbox portal installed (the sandbox file names its emulators).
    const sandbox = await waitFor(
      () => {
        try {
          return JSON.parse(readFileSync(join(dir, 'data', 'sandbox.json'), 'utf8')) as {
            endpoints: { b24: { oauthUrl: string } };
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
    await expect.poll(() => page.getByTestId('overview-portal').count()).toBe(0);
    await page.getByText(SANDBOX_DOMAIN).waitFor();
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

  it('changes a setting and sees it applied', async () => {
    await page.getByTestId('nav-settings').click();
    const quiet = page.getByTestId('settings-quiet');
    await expect.poll(() => quiet.inputValue()).toBe('21:00-09:00');
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
    await shot(page, '05-settings');
  });

  it('switches language, and keeps the choice', async () => {
    await page.getByTestId('lang-ru').click();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Сводка');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ru');
    await page.getByTestId('nav-overview').click();
    await page.getByTestId('overview').waitFor();
    await expect.poll(() => page.getByTestId('today-delivered').textContent()).toBe('1');
    await shot(page, '06-overview-ru');
    await page.reload();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Сводка');
    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.getByTestId('nav-overview').textContent()).toContain('Overview');
  });

  it('campaigns and the phone base pages answer', async () => {
    await page.getByTestId('nav-campaigns').click();
    await page.getByTestId('no-campaigns').waitFor();
    await page.getByTestId('nav-phones').click();
    await page.getByTestId('no-scans').waitFor();
  });

  it('a wrong grant and a forged open from "Bitrix24" get nothing', async () => {
    const stranger = await browser.newContext();
    const p = await stranger.newPage();
    const forgedGrant = await p.request.get(`${url}/api/overview`, {
      headers: { 'x-app-token': 'eyJwb3J0YWxJZCI6InNhbmRib3gifQ.forged' },
    });
    expect(forgedGrant.status()).toBe(401);
    expect(await forgedGrant.text()).not.toContain(SANDBOX_DOMAIN);
    // A page that posts the form Bitrix24 would, with a made-up AUTH_ID.
    await p.setContent(`<form method="post" action="${url}/b24/app?LANG=en">
      <input name="AUTH_ID" value="made-up"><input name="member_id" value="sandbox0000000000000000000000000">
      <input name="PLACEMENT" value="DEFAULT"></form>`);
    await Promise.all([
      p.waitForURL(`${url}/b24/app?LANG=en`),
      p.locator('form').evaluate((f: HTMLFormElement) => f.submit()),
    ]);
    const html = await p.content();
    expect(html).toContain('This page opens only from the Bitrix24 portal');
    expect(html).not.toContain('b24mts-app-token');
    expect(await p.getByTestId('overview').count()).toBe(0);
    await shot(p, '07-forged-open-refused');
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
    // The standalone test SMS went to no portal: it is neither counted nor listed here.
    await expect.poll(() => app.getByTestId('today-total').textContent()).toBe('0');
    await app.getByTestId('nav-messages').click();
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
    const rows = app.getByTestId('message-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('+375 33 ***-**-33');
    expect(await status((await rows.first().getAttribute('data-id')) as string)).toBe(200);
    await app.getByTestId('nav-overview').click();
    await expect.poll(() => app.getByTestId('today-delivered').textContent()).toBe('1');
    // The portal's settings inside: the MTS contract is the operator's, shown as such.
    await app.getByTestId('nav-settings').click();
    await expect.poll(() => app.getByTestId('settings-quiet').inputValue()).toBe('22:30-08:15');
    expect(await app.getByTestId('settings-mts-own').isDisabled()).toBe(true);
    await app.getByTestId('nav-overview').click();
    await app.getByTestId('overview').waitFor();
    await shot(p, '08-inside-bitrix24');
    // A CRM card's SMS tab: that record's messages only (none were sent to it).
    await p.goto(`${portalUrl}/app?placement=CRM_CONTACT_DETAIL_TAB&ID=1`);
    await p.frameLocator('iframe[name="app"]').getByTestId('card-tab').waitFor();
    await shot(p, '09-card-tab');
    expect(insideErrors.filter((e) => e.startsWith('exception'))).toEqual([]);
    await inside.close();
  });

  it('raised no script errors', () => {
    // 401s are expected (the login check, the wrong token); exceptions are not.
    expect(errors.filter((e) => e.startsWith('exception'))).toEqual([]);
  });
});
