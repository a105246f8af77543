import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/child.js';

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
