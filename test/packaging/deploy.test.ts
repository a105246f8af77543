import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/**
 * The deployment files (Dockerfile, compose.yaml, the systemd unit) say what operations.md
 * says. No Docker daemon or image registry is reachable here, so the image itself is not
 * built in the tests: its stages are checked as text, and its build commands are the ones
 * the production-install test runs (install.test.ts).
 */
describe('deployment files', () => {
  it('the systemd unit starts the service as `npm start` does, unprivileged, and is valid', () => {
    const unit = read('deploy/b24-mts-sms.service');
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 \S+\/dist\/cli\/index\.js serve$/m,
    );
    expect(unit).toMatch(/^User=b24sms$/m);
    expect(unit).toMatch(/^Environment=NODE_ENV=production$/m);
    expect(unit).toMatch(/^StateDirectory=b24-mts-sms$/m);
    // systemd's own check of the unit file (on machines that have systemd-analyze).
    let verify: string | undefined;
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
      verify = execFileSync(
        'sh',
        ['-c', `systemd-analyze verify "${join(ROOT, 'deploy/b24-mts-sms.service')}" 2>&1`],
        { encoding: 'utf8' },
      );
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
    if (verify !== undefined)
      expect(verify.split('\n').filter((l) => /b24-mts-sms\.service:\d+/.test(l))).toEqual([]);
  });

  it('the Dockerfile builds in one stage and runs unprivileged, checked and persistent in another', () => {
    const docker = read('Dockerfile');
    const stages = docker.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const [build, run] = stages as [string, string];
    expect(build).toContain('npm run build');
    expect(build).toContain('npm prune --omit=dev');
    expect(run).not.toMatch(/g\+\+|make|python3/);
    expect(run).toMatch(/^USER node$/m);
    expect(run).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(run).toContain('DATABASE_URL=sqlite:/data/b24-mts-sms.sqlite');
    expect(run).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(run).toMatch(
      /^CMD \["node", "--max-semi-space-size=1", "dist\/cli\/index\.js", "serve"\]$/m,
    );
    // Nothing fetched from the internet but packages.
    expect(docker).not.toMatch(/\b(curl|wget)\b/);
    for (const [, from] of docker.matchAll(/^COPY (?!--from)(\S+)/gm))
      expect(existsSync(join(ROOT, from as string)), from).toBe(true);
  });

  it('compose runs the service on PostgreSQL, after the database is healthy', () => {
    const compose = read('compose.yaml');
    expect(compose).toMatch(/image: postgres:\d+/);
    expect(compose).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own variable syntax.
      'DATABASE_URL: postgres://b24sms:${POSTGRES_PASSWORD}@db:5432/b24sms',
    );
    expect(compose).toMatch(/condition: service_healthy/);
    expect(compose).toMatch(/pg_isready/);
    expect(compose).toContain('"127.0.0.1:3000:3000"');
  });
});
