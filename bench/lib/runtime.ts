/**
 * How service processes run. `dist` (default): the sources compiled by tsc once per bench
 * run into a temp folder and started with plain `node`, as `npm start` runs the built
 * service — the tsx loader alone adds ~55 MiB of resident memory and startup CPU that
 * production does not have. `tsx`: `node --import tsx <file>.ts` from the sources, as the
 * test suite does (no compile step; memory figures are then inflated).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { defer } from './cleanup.js';
import { ROOT } from './paths.js';

export type RuntimeKind = 'dist' | 'tsx';

let kind: RuntimeKind = 'tsx';
let outDir = '';

/** Compiles src/ and bench/child/ (dist) or does nothing (tsx); returns seconds spent. */
export async function prepareRuntime(k: RuntimeKind): Promise<number> {
  kind = k;
  if (k === 'tsx') return 0;
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-bench-build-'));
  defer(`build dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // ESM like the package, and packages resolved from the repository's node_modules.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(resolve(ROOT, 'node_modules'), join(dir, 'node_modules'));
  outDir = join(dir, 'out');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: resolve(ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: ROOT, outDir, noEmit: false, incremental: false },
      include: [resolve(ROOT, 'src'), resolve(ROOT, 'bench/child')],
    }),
  );
  try {
    await promisify(execFile)(
      process.execPath,
      [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 },
    );
  } catch (err) {
    const e = err as { stdout?: string; message: string };
    throw new Error(`compiling the service for --runtime dist failed:\n${e.stdout ?? e.message}`);
  }
  return (Date.now() - started) / 1000;
}

export const runtimeKind = () => kind;

/**
 * The Node options of `npm start` (package.json `scripts.start`: `node <options> dist/…`), so
 * the service under test runs with the heap settings production gets.
 */
export function startNodeOptions(): string[] {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`npm start does not run node: ${pkg.scripts.start}`);
  return words.slice(1).filter((w) => w.startsWith('--'));
}

/** Node arguments that run the repository file `tsFile` (e.g. `src/cli/index.ts`). */
export function nodeArgs(tsFile: string): string[] {
  if (kind === 'tsx') return [...startNodeOptions(), '--import', 'tsx', tsFile];
  return [...startNodeOptions(), join(outDir, tsFile.replace(/\.ts$/, '.js'))];
}
