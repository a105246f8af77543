import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, spawnProcess } from '../helpers/child.js';
import { freshCopy } from '../helpers/terminal.js';
import { freePort, waitFor } from '../helpers/wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The production install path, as docs/operations.md gives it: `npm pack` in the checkout
 * (prepack builds), the tarball unpacked elsewhere, `npm install --omit=dev`, and the service
 * started with node — no build tools, no dev dependencies, the admin page served from the
 * package.
 */
describe('a production install from the packed package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-pack-'));
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs with --omit=dev and serves', async () => {
    // stdout and stderr together (npm's warnings are on stderr); a failure throws with both.
    const run = (cmd: string, args: string[], cwd: string) => {
      const r = spawnSync(cmd, args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
      if (r.status !== 0)
        throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return { out: r.stdout, all: `${r.stdout}\n${r.stderr}` };
    };
    // Packed from a copy of the checkout (its prepack builds there, not in the working tree
    // that other tests are reading), with the checkout's installed tools.
    const checkout = join(dir, 'checkout');
    freshCopy(checkout);
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    run(NPM, ['pack', '--pack-destination', dir, '--silent'], checkout);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
    expect(tarball).toMatch(/^b24-mts-sms-\d+\.\d+\.\d+\.tgz$/);
    const app = join(dir, 'app');
    mkdirSync(app);
    run('tar', ['xzf', join(dir, tarball), '-C', app, '--strip-components=1'], dir);
    // What ships: the built service and page, the docs; no sources, no tests.
    for (const f of [
      'dist/cli/index.js',
      'web/dist/index.html',
      '.env.example',
      'LICENSE',
      '.prebuild-installrc',
    ])
      expect(existsSync(join(app, f)), f).toBe(true);
    for (const f of ['src', 'test', 'web/src', 'node_modules'])
      expect(existsSync(join(app, f)), f).toBe(false);

    // --engine-strict: every runtime dependency admits the Node running this test (the suite
    // runs on Node 20 and 24 in CI), or the install fails.
    const installed = run(
      NPM,
      ['install', '--omit=dev', '--engine-strict', '--no-audit', '--no-fund', '--prefer-offline'],
      app,
    );
    expect(installed.all).not.toMatch(/Unknown (project|user) config/);
    // Runtime dependencies only; better-sqlite3 compiled here (node-gyp's object files), not
    // a prebuilt binary downloaded.
    for (const dev of ['typescript', 'vite', 'vitest', 'vue', 'pino-pretty'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(
      existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')),
    ).toBe(true);
    expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/obj.target'))).toBe(
      true,
    );
    expect(run(process.execPath, ['dist/cli/index.js', '--version'], app).out.trim()).toMatch(
      /^\d+\.\d+\.\d+$/,
    );

    const port = await freePort();
    service = spawnProcess(
      process.execPath,
      ['--max-semi-space-size=1', 'dist/cli/index.js', 'serve'],
      { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADMIN_TOKEN: 'pack-test-token' },
      { cwd: app },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok,
      `the installed service to answer:\n${service.output()}`,
      60_000,
      250,
    );
    const page = await (await fetch(`${url}/`)).text();
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(page)?.[1];
    expect(script).toMatch(/^\/app\/assets\//);
    expect((await fetch(`${url}${script}`)).status).toBe(200);
    // JSON logs (pino-pretty is a development tool): the sandbox warning is a JSON line.
    expect(service.output()).toMatch(/^\{"level":40,.*SANDBOX MODE/m);
  }, 600_000);
});
