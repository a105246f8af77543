import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServiceProcess, spawnCli } from '../helpers/child.js';
import { freePort, waitFor } from '../helpers/wait.js';

/**
 * README, "Before a mass mailing": the lines of its command block, run as written (after the
 * `npx b24-mts-sms` prefix) in a fresh folder next to a sandbox `npm start` — no credentials,
 * the default database in ./data. Only the port differs (and quiet hours are off, so the test
 * passes in the Minsk evening too; the README says how to do the same).
 */

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

/** The bash block after the `before-mass-mailing` marker, its lines split like a shell would. */
function guideCommands(): string[][] {
  const marker = README.indexOf('<!-- before-mass-mailing');
  const start = README.indexOf('```bash\n', marker) + '```bash\n'.length;
  const block = README.slice(start, README.indexOf('```', start));
  return block
    .split('\n')
    .filter((l) => l.startsWith('npx b24-mts-sms '))
    .map((l) =>
      [...l.slice('npx b24-mts-sms '.length).matchAll(/"([^"]*)"|(\S+)/g)].map(
        (m) => (m[1] ?? m[2]) as string,
      ),
    );
}

describe('README "Before a mass mailing", word for word in sandbox mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-guide-'));
  let serve: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const port = await freePort();
    env = {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      MARKETING_QUIET_HOURS: '',
      LOG_LEVEL: 'warn',
    };
    serve = spawnCli(['serve'], env, { cwd: dir });
    // Ready once the sandbox portal (and its sample CRM) is there for the other commands.
    await waitFor(
      () => {
        if (serve.child.exitCode !== null)
          throw new Error(`serve exited ${serve.child.exitCode}: ${serve.output()}`);
        return serve.output().includes('with a sample CRM');
      },
      'the sandbox to be ready',
      30_000,
      100,
    );
  }, 60_000);

  afterAll(async () => {
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every line exits 0 and does what the guide says', async () => {
    const commands = guideCommands();
    expect(commands.map((c) => c.slice(0, 2).join(' '))).toEqual([
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
    for (const args of commands) {
      const r = await runCli(args, env, { cwd: dir });
      expect(r.code, `${args.join(' ')}:\n${r.output}`).toBe(0);
      outputs.push(r.output);
    }
    // The first scan wrote its report and found numbers to fix; after --apply none are left.
    const csv = readFileSync(join(dir, 'phones.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('entity,id,value_id,value_type,original,normalized,verdict');
    expect(csv).toContain(',fixable\n');
    const jsonScan = await runCli(['phones', 'scan', '--json'], env, { cwd: dir });
    expect(JSON.parse(jsonScan.stdout)).toMatchObject({ fixable: 0 });
    // The campaign went out to every recipient and the test SMS to the given phone.
    const status = JSON.parse(
      (await runCli(['campaign', 'status', '1', '--json'], env, { cwd: dir })).stdout,
    );
    expect(status.state).toBe('done');
    expect(status.recipients).toBeGreaterThan(100);
    expect(status.sent + status.failed).toBe(status.recipients);
    expect(outputs[5]).toContain('test SMS to +375291234567');
    await waitFor(
      async () =>
        JSON.parse(
          (await runCli(['stats', '--by', 'campaign', '--json'], env, { cwd: dir })).stdout,
        ).rows.some(
          (r: { key: string; delivered: number }) => r.key !== '(none)' && r.delivered > 0,
        ),
      'campaign deliveries in stats',
      30_000,
      500,
    );
  }, 240_000);
});
