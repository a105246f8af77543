import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * vitest's global setup: the admin page's built assets (`web/dist`) must be there and newer
 * than their sources before the tests that open the page start — `npm ci` builds them
 * (`prepare`), a checkout edited since may not have. Built once, before every test file.
 */
const ROOT = join(import.meta.dirname, '..', '..');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

export default function setup(): void {
  let built = 0;
  try {
    built = statSync(join(ROOT, 'web', 'dist', 'index.html')).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(
    newest(join(ROOT, 'web', 'src')),
    newest(join(ROOT, 'web', 'index.html')),
    newest(join(ROOT, 'src', 'i18n', 'page.ts')),
  );
  if (built > sources) return;
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
