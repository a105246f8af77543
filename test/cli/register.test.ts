import { afterEach, describe, expect, it, vi } from 'vitest';
import { listPortals, upsertPortal } from '../../src/store/portals.js';
import { runCli } from '../helpers/child.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { freePort } from '../helpers/wait.js';

vi.setConfig({ testTimeout: 90_000 });

/**
 * `register` with a portal that is gone (an emulated one left in ./data by the sandbox or a
 * dry run, whose emulator no longer runs): the others are still registered, the gone one is
 * named with the way to remove it, and the exit code says something failed.
 */
describe('register', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('registers each portal on its own and names one that cannot be reached', async () => {
    h = await startHarness({ dialect: 'sqlite' });
    const dead = `http://127.0.0.1:${await freePort()}/rest/`;
    await upsertPortal(
      h.db.conn,
      {
        id: 'gone0000000000000000000000000000',
        domain: 'gone.bitrix24.by',
        clientEndpoint: dead,
        serverEndpoint: 'http://127.0.0.1:1/oauth/',
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 3600_000,
        applicationToken: 't',
      },
      Date.now(),
    );
    const { code, output, stdout } = await runCli(['register'], {
      ...h.env,
      LOG_LEVEL: 'silent',
    });
    expect(code, output).toBe(1);
    expect(stdout).toContain(`${h.b24.domain} (${h.b24.memberId}): provider mts_sms_by updated`);
    expect(stdout).toMatch(
      /gone\.bitrix24\.by \(gone0+\): registration failed: .*\n {2}if this portal no longer exists .* npx b24-mts-sms portal remove gone\.bitrix24\.by/,
    );
    expect(output).toContain('registration failed in 1 of 2 portals; the others are registered');
    expect((await listPortals(h.db.conn)).map((p) => p.domain).sort()).toEqual(
      [h.b24.domain, 'gone.bitrix24.by'].sort(),
    );
  });
});
