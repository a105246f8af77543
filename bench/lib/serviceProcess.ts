/**
 * The service under test as a child process: the CLI's `serve` (exactly as operators run
 * it) or a bench child script, compiled or through tsx (runtime.ts), configured only by its
 * environment. CPU and memory are read from /proc/<pid>.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { defer, trackChild } from './cleanup.js';
import { ROOT } from './paths.js';
import { cpuMs, type Memory, memory } from './procStats.js';
import { nodeArgs } from './runtime.js';
import { sleep } from './time.js';

export interface ServiceProcess {
  label: string;
  pid: number;
  /** `http://127.0.0.1:<port>`, also its PUBLIC_URL. */
  url: string;
  child: ChildProcess;
  /** The last 64 KiB the process printed, for failure messages. */
  output(): string;
  cpuMs(): number;
  memory(): Memory;
  /** SIGTERM, then SIGKILL after 20 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs the repository file `file` (see runtime.ts) with `args` and exactly `env` (plus PATH
 * and HOME), and waits until `${url}/healthz` answers.
 */
export async function spawnService(
  label: string,
  file: string,
  args: string[],
  env: Record<string, string>,
  url: string,
): Promise<ServiceProcess> {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service under test.
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, ...nodeArgs(file), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = defer(`service ${label}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  });
  const pid = child.pid ?? -1;
  const proc: ServiceProcess = {
    label,
    pid,
    url,
    child,
    output: () => out,
    cpuMs: () => cpuMs(pid),
    memory: () => memory(pid),
    stop,
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `${label} exited (${child.exitCode ?? child.signalCode}) before answering:\n${out}`,
      );
    }
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return proc;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${label} did not answer /healthz within 60 s:\n${out}`);
    }
    await sleep(100);
  }
}

/** `b24-mts-sms serve` from the sources; `workers: false` adds `--no-workers`. */
export function startServe(
  label: string,
  env: Record<string, string>,
  opts: { workers: boolean },
): Promise<ServiceProcess> {
  const args = ['serve', ...(opts.workers ? [] : ['--no-workers'])];
  return spawnService(label, 'src/cli/index.ts', args, env, env.PUBLIC_URL as string);
}
