import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { spawnCli } from '../helpers/child.js';

// Each CLI run is a Node process compiling the sources (tsx): several seconds apiece, and more
// beside a busy neighbour. A test of a few runs gets more than the suite's default 30 s.
vi.setConfig({ testTimeout: 90_000 });

describe('b24-mts-sms --version', () => {
  it("prints the package's version and exits 0", async () => {
    const pkg = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = spawnCli([flag], {});
      const code = await new Promise<number | null>((r) => run.child.once('exit', r));
      expect(code).toBe(0);
      expect(run.stdout()).toBe(`${pkg.version}\n`);
    }
  });
});
