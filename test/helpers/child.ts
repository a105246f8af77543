import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from './wait.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process printed (stdout + stderr), for failure messages. */
  output(): string;
  /** What it printed on stdout alone (a `--json` document). */
  stdout(): string;
  /** SIGKILL: no shutdown hooks, no flush — a crash. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** The tsx loader by absolute URL, so a command can run in any working directory. */
const TSX = pathToFileURL(resolve(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/**
 * Runs `b24-mts-sms <args>` from the TypeScript sources in a child process (in the repository,
 * or in `opts.cwd`, where relative paths such as the default ./data then resolve).
 */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string } = {},
): ServiceProcess {
  return spawnProcess(
    process.execPath,
    ['--import', TSX, resolve(ROOT, 'src/cli/index.ts'), ...args],
    env,
    opts,
  );
}

/** Any command as a child process with only PATH, HOME and `env` in its environment. */
export function spawnProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string } = {},
): ServiceProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Starts `serve` and waits until /healthz answers. */
export async function spawnService(
  env: Record<string, string>,
  url: string,
): Promise<ServiceProcess> {
  const p = spawnCli(['serve'], env);
  await waitFor(
    async () => {
      if (p.child.exitCode !== null)
        throw new Error(`service exited with ${p.child.exitCode}:\n${p.output()}`);
      return fetch(`${url}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
    },
    'the service to answer /healthz',
    20_000,
    100,
  );
  return p;
}

/** Runs a CLI command to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string } = {},
): Promise<{ code: number | null; output: string; stdout: string }> {
  const p = spawnCli(args, env, opts);
  // 'close', not 'exit': the pipes are drained by then.
  const code = await new Promise<number | null>((r) => p.child.once('close', (c) => r(c)));
  return { code, output: p.output(), stdout: p.stdout() };
}
