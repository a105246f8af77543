import { afterEach, describe, expect, it } from 'vitest';
import { type MtsEmulator, startMtsEmulator } from '../../src/emulators/mts/index.js';
import { listPortals } from '../../src/store/portals.js';
import { runCli } from '../helpers/child.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const SECRET_KEY = 'test-secret-key-0123456789';

/**
 * A portal with its own MTS contract (`portal set --mts-*`) sends on that account, with its
 * credentials stored encrypted and never printed back; `--mts-default` returns it to the
 * configured account.
 */
for (const dialect of DIALECTS)
  describe(`per-portal MTS contracts on ${dialect}`, () => {
    let h: Harness;
    let own: MtsEmulator;
    afterEach(async () => {
      await own?.close();
      await h?.close();
    });

    it('sends on the portal contract, keeps its password encrypted, and can drop it', async () => {
      h = await startHarness({ dialect, env: { SECRET_KEY } });
      own = await startMtsEmulator({ clientId: '7777', login: 'acme', password: 's3cr3t-pass' });
      const portal = (await listPortals(h.db.conn))[0];
      const env = { ...h.env, SECRET_KEY, LOG_LEVEL: 'silent' };

      const set = await runCli(
        [
          'portal',
          'set',
          portal?.domain as string,
          '--mts-client-id',
          '7777',
          '--mts-login',
          'acme',
          '--mts-password',
          's3cr3t-pass',
          '--mts-rate',
          '25',
          '--mts-url',
          own.url,
        ],
        env,
      );
      expect(set.code, set.output).toBe(0);
      expect(set.output).not.toContain('s3cr3t-pass');
      const row = await h.db.conn.db
        .selectFrom('contracts')
        .selectAll()
        .where('id', '=', `portal:${portal?.id}`)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ client_id: '7777', login: 'acme', rate: 25 });
      expect(row.password_enc).toMatch(/^v1:/);
      expect(JSON.stringify(row)).not.toContain('s3cr3t-pass');
      const list = await runCli(['portal', 'list', '--json'], env);
      expect(list.output).not.toContain('s3cr3t-pass');
      expect(JSON.parse(list.output)[0].mts).toMatchObject({ clientId: '7777', password: 'set' });

      // The service picks the contract up within seconds (it re-reads contracts every 5 s).
      await new Promise((r) => setTimeout(r, 5200));
      await h.b24.sendFromCard({ to: '+375291112233', text: 'on the portal contract' });
      await waitFor(() => own.sent.length === 1, 'the SMS at the portal contract');
      expect(own.sent[0]).toMatchObject({ auth: 'basic', text: 'on the portal contract' });
      expect(h.mts.sent).toHaveLength(0);

      // A wrong SECRET_KEY cannot read it; a missing one cannot store one.
      const noKey = await runCli(
        [
          'portal',
          'set',
          portal?.id as string,
          '--mts-client-id',
          '1',
          '--mts-login',
          'a',
          '--mts-password',
          'b',
        ],
        { ...env, SECRET_KEY: '' },
      );
      expect(noKey.code).toBe(2);
      expect(noKey.output).toMatch(/SECRET_KEY/);

      const back = await runCli(['portal', 'set', portal?.id as string, '--mts-default'], env);
      expect(back.code, back.output).toBe(0);
      await new Promise((r) => setTimeout(r, 5200));
      await h.b24.sendFromCard({ to: '+375291112233', text: 'on the default contract' });
      await waitFor(() => h.mts.sent.length === 1, 'the SMS at the default contract');
      expect(own.sent).toHaveLength(1);
    }, 60_000);
  });
