import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  freshCopy,
  portIsFree,
  readmeBlocks,
  readmeSection,
  type Terminal,
  terminal,
  terminalEnv,
} from '../helpers/terminal.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The README followed word for word on a fresh copy of the checkout, as a new user would in
 * terminals: Quick start (`npm install && npm start`, `npx b24-mts-sms send …`, the page, Ctrl+C,
 * starting again clean), then "Before a mass mailing" (every line of its block beside the
 * sandbox), then "Dry run with the emulators" (its three terminals as written),
 * then "Going live" (its `.env` and `npm start`, the install Bitrix24 makes, `register`). The
 * commands are taken from the README itself and run through bash, on the ports it names; only
 * what cannot be real here differs: in "Going live", the addresses and credentials of the real
 * MTS and Bitrix24 in `.env` become those of the emulators.
 */

const PORTS = [3000, 4010, 4020];
const SERVICE = 'http://localhost:3000';

describe('the README, word for word, on a fresh copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-readme-'));
  const app = join(dir, 'b24-mts-sms');
  const env = terminalEnv();
  const open: Terminal[] = [];
  const run = (command: string) => {
    const t = terminal(command, app, env);
    open.push(t);
    return t;
  };
  /** Runs to the end; fails with the output when it does not exit 0. */
  const finish = async (command: string, timeoutMs = 120_000): Promise<string> =>
    (await finishing(command, timeoutMs)).output();
  const finishing = async (command: string, timeoutMs = 120_000): Promise<Terminal> => {
    const t = run(command);
    const code = await Promise.race([
      t.closed,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref()),
    ]);
    if (code !== 0) {
      t.kill();
      throw new Error(`\`${command}\` ended with ${code}:\n${t.output()}`);
    }
    return t;
  };
  /** A `--json` command's document. */
  const json = async (command: string) => JSON.parse((await finishing(command)).stdout());
  /** Ctrl+C, then the exit: within the service's shutdown grace. */
  const stop = async (t: Terminal): Promise<void> => {
    t.interrupt();
    const end = await Promise.race([
      t.closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('timeout'), 30_000).unref()),
    ]);
    expect(end, `Ctrl+C did not stop it:\n${t.output()}`).toBe('closed');
  };
  const waitForService = (t: Terminal, what: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        if (t.child.exitCode !== null) throw new Error(`it exited:\n${t.output()}`);
        return (await fetch(`${SERVICE}/readyz`).catch(() => undefined))?.ok;
      },
      `${what}:\n${t.output()}`,
      timeoutMs,
      250,
    );

  /** Until the sandbox's emulated portal, with its sample CRM, is installed. */
  const sandboxPortal = (t: Terminal) =>
    waitFor(
      () => t.output().includes('with a sample CRM'),
      `the sandbox portal:\n${t.output()}`,
      30_000,
      100,
    );

  beforeAll(async () => {
    for (const port of PORTS)
      if (!(await portIsFree(port)))
        throw new Error(
          `port ${port} is taken: the README's commands use ${PORTS.join(', ')} — stop what runs there (a service or emulators started by hand?) and run this test again`,
        );
    freshCopy(app);
  });
  // What a failed step left running must not answer the next one's ports.
  afterEach(async () => {
    for (const t of open) t.kill();
    await Promise.race([
      Promise.all(open.splice(0).map((t) => t.closed)),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
  });
  /** The later sections run in the copy the Quick start installed. */
  const installed = () => {
    if (!existsSync(join(app, 'node_modules')))
      throw new Error(
        'no node_modules: this section needs the Quick start test of this file first',
      );
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Quick start: install, start, send, look, stop, start again clean', async () => {
    const [startCmd, sendCmd, testCmd] = readmeBlocks('Quick start');
    expect(startCmd).toBe('npm install && npm start');
    expect(sendCmd).toMatch(/^npx b24-mts-sms send /);
    // `npm test` is what CI runs (.ci/run), and is tested by being the suite itself.
    expect(testCmd).toBe('npm test');
    expect(readFileSync(join(app, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);

    const service = run(startCmd as string);
    // npm install compiles better-sqlite3 and builds the service and its page: minutes.
    await waitForService(service, 'npm install && npm start to serve on port 3000', 600_000);
    await sandboxPortal(service);
    expect(service.output()).toContain('SANDBOX MODE');

    const sent = await finish(sendCmd as string);
    expect(sent).toContain('status in Bitrix24: delivered');

    // The page opens without a login in sandbox mode; the message is under Messages.
    const page = await fetch(`${SERVICE}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>MTS Belarus SMS<\/title>[\s\S]*<div id="app"/);
    const messages = (await (
      await fetch(`${SERVICE}/api/messages?phone=${encodeURIComponent('8 029 123-45-67')}`)
    ).json()) as { state: string; b24_status: string }[];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ state: 'DELIVRD', b24_status: 'delivered' });
    // The address the log prints as appInPortal: the emulated portal with the app inside.
    const appInPortal = /"appInPortal":"([^"]+)"/.exec(service.output())?.[1];
    expect(appInPortal).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/app$/);
    expect((await fetch(appInPortal as string)).status).toBe(200);

    await stop(service);
    // One Ctrl+C reaches the service twice (the terminal's and npm's forwarded copy): it
    // still finishes its stop instead of taking the copy for a second press.
    expect(service.output()).toContain('shutting down: finishing in-flight sends');
    expect(service.output()).toContain('"msg":"stopped"');
    expect(service.output()).not.toContain('second SIGINT');

    // Start again clean: `rm -rf data`, `npm start`: no messages any more.
    await finish('rm -rf data');
    const again = run('npm start');
    await waitForService(again, 'npm start after rm -rf data');
    expect(await (await fetch(`${SERVICE}/api/messages`)).json()).toEqual([]);
    await stop(again);
  }, 900_000);

  it('Before a mass mailing: every line of its block, beside the sandbox', async () => {
    installed();
    const section = readmeSection('Before a mass mailing');
    const [startCmd, block] = readmeBlocks('Before a mass mailing');
    expect(startCmd).toBe('npm start');
    // In the Minsk evening marketing waits for the morning; the README says how to try it then,
    // and this test always does (so it passes at any hour).
    expect(section).toContain('`MARKETING_QUIET_HOURS= npm start`');
    const service = run('MARKETING_QUIET_HOURS= npm start');
    await waitForService(service, 'the sandbox');
    await sandboxPortal(service);
    const lines = (block as string).split('\n');
    expect(lines.map((l) => l.split(' ').slice(2, 4).join(' '))).toEqual([
      'phones scan',
      'phones fix',
      'phones fix',
      'phones scan',
      'campaign create',
      'campaign test',
      'campaign start',
      'campaign status',
      'stats --by',
    ]);
    const outputs: string[] = [];
    for (const line of lines) outputs.push(await finish(line, 180_000));

    // The first scan wrote its report and found numbers to fix; after --apply none are left.
    const csv = readFileSync(join(app, 'phones.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('entity,id,value_id,value_type,original,normalized,verdict');
    expect(csv).toContain(',fixable\n');
    expect(await json('npx b24-mts-sms phones scan --json')).toMatchObject({ fixable: 0 });
    // The campaign went out to every recipient and the test SMS to the given phone.
    const status = await json('npx b24-mts-sms campaign status 1 --json');
    expect(status.state).toBe('done');
    expect(status.recipients).toBeGreaterThan(100);
    expect(status.sent + status.failed).toBe(status.recipients);
    expect(outputs[5]).toContain('test SMS to +375291234567');
    await waitFor(
      async () =>
        (await json('npx b24-mts-sms stats --by campaign --json')).rows.some(
          (r: { key: string; delivered: number }) => r.key !== '(none)' && r.delivered > 0,
        ),
      'campaign deliveries in stats',
      30_000,
      500,
    );
    await stop(service);
  }, 400_000);

  it('Dry run with the emulators, as a configured service: its three terminals', async () => {
    installed();
    const [block] = readmeBlocks('Dry run with the emulators, as a configured service');
    // "# terminal N: …" starts a terminal's command; a trailing backslash continues a line.
    const terminals = (block as string)
      .replace(/ \\\n/g, ' ')
      .split(/^# terminal \d+:.*$/m)
      .map((c) => c.trim())
      .filter(Boolean);
    expect(terminals).toHaveLength(3);
    const [emulateCmd, startCmd, sendCmd] = terminals as [string, string, string];
    expect(emulateCmd).toBe('npx b24-mts-sms emulate --install http://localhost:3000');

    const emulators = run(emulateCmd);
    await waitFor(
      () => emulators.output().includes('waiting for the service'),
      `the emulators:\n${emulators.output()}`,
      60_000,
      100,
    );
    // Terminal 1 prints the configuration that terminal 2 uses.
    const printed = emulators.output().replace(/ \\\n/g, ' ');
    for (const setting of startCmd.replace(/ npm start$/, '').split(' '))
      expect(printed, setting).toContain(setting);

    const service = run(startCmd);
    await waitForService(service, 'the configured service');
    await waitFor(
      () => emulators.output().includes('portal installed into http://localhost:3000'),
      `the install:\n${emulators.output()}\n${service.output()}`,
      60_000,
      100,
    );
    expect(service.output()).not.toContain('SANDBOX MODE');

    const sent = await finish(sendCmd);
    expect(sent).toMatch(/queued \S+ to \+375291234567/);
    expect(sent).toMatch(/ACCEPTD|DELIVRD/);

    // The emulated portal's page, with the app inside.
    expect((await fetch('http://127.0.0.1:4020/app')).status).toBe(200);
    await stop(service);
    await stop(emulators);
  }, 300_000);

  it('Going live: the .env, npm start, the install Bitrix24 makes, register', async () => {
    installed();
    const [envBlock] = readmeBlocks('Going live');
    expect(envBlock).toMatch(/^cat > \.env <<'ENV'\n[\s\S]*\nENV\nnpm start$/);
    // Step 4: the sandbox and the dry run above left their emulated portals in ./data — start
    // clean, as it says.
    expect(readmeSection('Going live')).toContain(
      'Tried the sandbox or the dry run in this folder?',
    );
    await finish('rm -rf data');
    // Step 4 as written writes .env…
    await finish((envBlock as string).replace(/\nnpm start$/, ''));
    const written = readFileSync(join(app, '.env'), 'utf8');
    expect(written).toMatch(/^NODE_ENV=production$/m);
    // …which here points at the emulators instead of the real services: their addresses (the
    // real ones are the defaults, so the README's .env does not name them) and credentials.
    const stand: Record<string, string> = {
      PUBLIC_URL: 'http://localhost:3000',
      B24_CLIENT_ID: 'local.sandbox',
      B24_CLIENT_SECRET: 'sandbox-secret',
      B24_OAUTH_URL: 'http://127.0.0.1:4020',
      MTS_API_URL: 'http://127.0.0.1:4010',
      MTS_LOGIN: 'sandbox',
      MTS_PASSWORD: 'sandbox',
      MTS_SENDER: 'SANDBOX',
    };
    const kept = written.split('\n').filter((l) => l && !((l.split('=')[0] as string) in stand));
    writeFileSync(
      join(app, '.env'),
      `${[...kept, ...Object.entries(stand).map(([k, v]) => `${k}=${v}`)].join('\n')}\n`,
    );

    // Bitrix24 and MTS (the emulators); saving the local application installs it (step 5):
    // the portal posts ONAPPINSTALL once the service answers, as `--install` does.
    const portal = run('npx b24-mts-sms emulate --install http://localhost:3000');
    const service = run('npm start');
    await waitForService(service, 'npm start with .env');
    expect(service.output()).not.toContain('SANDBOX MODE');
    await waitFor(
      () => portal.output().includes('portal installed into http://localhost:3000'),
      `the install:\n${portal.output()}\n${service.output()}`,
      60_000,
      100,
    );
    // The provider is registered: a manager's SMS from a CRM card goes out, and its status
    // comes back to the portal.
    const card = await fetch('http://127.0.0.1:4020/_emulator/send-from-card', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+375291234567', text: 'Going live' }),
    });
    expect(card.status, await card.clone().text()).toBe(200);
    const { messageId } = (await card.json()) as { messageId: string };
    await waitFor(
      async () =>
        (
          (await (await fetch(`http://127.0.0.1:4020/_emulator/messages/${messageId}`)).json()) as {
            status: string | null;
          }
        ).status === 'delivered',
      `the card SMS delivered in the portal:\n${service.output()}`,
      30_000,
      250,
    );
    // "If registration failed …, run `npx b24-mts-sms register`": it registers again.
    const registered = await finish('npx b24-mts-sms register');
    expect(registered).toMatch(/provider mts_sms_by/);
    await stop(service);
    await stop(portal);
  }, 300_000);
});
