import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/store/index.js';
import { runCli, type ServiceProcess, spawnCli } from '../helpers/child.js';
import { freePort, waitFor } from '../helpers/wait.js';

// Each CLI run is a Node process compiling the sources (tsx): several seconds apiece, and more
// beside a busy neighbour. A test of a few runs gets more than the suite's default 30 s.
vi.setConfig({ testTimeout: 90_000 });

/**
 * The README's first steps, as a new user takes them: `npm start` (sandbox mode) in one
 * terminal, `npx b24-mts-sms send …` in another, in the same folder. The SMS goes from a CRM
 * card of the emulated portal through the running service, and its status comes back to
 * that portal.
 */
describe('send in sandbox mode, beside the running service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-send-'));
  let service: ServiceProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    const port = await freePort();
    env = { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    service = spawnCli(['serve'], env, { cwd: dir });
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/api/overview`).catch(() => undefined))?.ok &&
        (
          (await (await fetch(`http://127.0.0.1:${port}/api/overview`)).json()) as {
            portals: unknown[];
          }
        ).portals.length === 1,
      `the sandbox to start with its portal:\n${service.output()}`,
      60_000,
      250,
    );
  }, 90_000);
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (args: string[]) => runCli(['send', ...args], env, { cwd: dir });

  it('is delivered, and its status reaches the emulated portal', async () => {
    const { code, output, stdout } = await send(['--to', '8 029 123-45-67', '--text', 'Hello']);
    expect(output).toContain('sandbox mode');
    expect(stdout).toMatch(/^queued: Bitrix24 message [0-9a-f]{32} to \+375291234567$/m);
    expect(stdout).toMatch(/^status in Bitrix24: delivered$/m);
    expect(code).toBe(0);
    // The service's own record: a card send of the sandbox portal, delivered; no "database is
    // locked" anywhere.
    const conn = connect(`sqlite:${join(dir, 'data', 'b24-mts-sms.sqlite')}`);
    const rows = await conn.db.selectFrom('messages').selectAll().execute();
    await conn.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'crm', phone: '+375291234567', state: 'DELIVRD' });
    expect(service.output()).not.toMatch(/database is locked|SQLITE_BUSY/);
  });

  it('--wait 0 returns as soon as the message is committed', async () => {
    const started = Date.now();
    const { code, stdout } = await send([
      '--to',
      '+375 33 111-22-33',
      '--text',
      'x',
      '--wait',
      '0',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^queued: Bitrix24 message [0-9a-f]{32} to \+375331112233$/m);
    expect(stdout).not.toContain('status in Bitrix24');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a number that cannot be sent to is refused at once, with the reason (exit 1)', async () => {
    const { code, stdout } = await send(['--to', '8 017 123-45-67', '--text', 'x']);
    expect(code).toBe(1);
    expect(stdout).toContain('refused: invalid: landline');
  });

  it('a wrong --wait is a usage error (exit 2)', async () => {
    const { code, output } = await send(['--to', '291234567', '--text', 'x', '--wait', 'soon']);
    expect(code).toBe(2);
    expect(output).toContain('--wait takes a number of seconds');
  });
});
