import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * What a login shell on this machine has and a new terminal inherits: certificates and proxies
 * (npm reaches the registry through them; a Node from the npm registry does not read the
 * system's store, so NODE_EXTRA_CA_CERTS matters), locale, temp dir.
 */
const MACHINE =
  /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|LANG|LC_ALL|TMPDIR|USER|SHELL)$/;

/**
 * The environment of a new terminal on this machine: PATH without any project's
 * node_modules/.bin (those `npm test` put there; a Node installed from the npm registry, as CI's
 * Node 24, stays), HOME, the machine's own settings (MACHINE), and `npm_config_nodedir` when
 * CI set it (the Node 24 run compiles against that Node's headers). Nothing of the test run
 * (npm_*, VITEST*, NODE_ENV, the service's settings) leaks in.
 */
export function terminalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p && !/node_modules[/\\]\.bin[/\\]?$/.test(p))
    .join(':');
  const machine = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => MACHINE.test(e[0]) && e[1] !== undefined,
    ),
  );
  return {
    ...machine,
    PATH: path,
    HOME: process.env.HOME ?? '',
    ...(process.env.npm_config_nodedir
      ? { npm_config_nodedir: process.env.npm_config_nodedir }
      : {}),
    ...extra,
  };
}

export interface Terminal {
  child: ChildProcess;
  /** stdout and stderr as printed so far. */
  output(): string;
  /** stdout alone (a `--json` document). */
  stdout(): string;
  /** Resolves with the exit code (null when a signal ended it) once its pipes are drained. */
  closed: Promise<number | null>;
  /** Ctrl+C: SIGINT to the whole process group, as a terminal sends it. */
  interrupt(): void;
  /** SIGKILL to the whole process group (cleanup). */
  kill(): void;
}

/** Process groups still open: killed if the test process exits (a crash, a timeout). */
const groups = new Set<number>();
process.once('exit', () => {
  for (const g of groups) killGroup(g, 'SIGKILL');
});
function killGroup(pgid: number, s: NodeJS.Signals): void {
  try {
    process.kill(-pgid, s);
  } catch {
    // ESRCH: nothing of the group is left
  }
}

/** Runs `command` as typed into a terminal (`bash -c`), in its own process group. */
export function terminal(command: string, cwd: string, env: Record<string, string>): Terminal {
  const child = spawn('bash', ['-c', command], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid;
  if (pgid !== undefined) groups.add(pgid);
  let out = '';
  child.once('error', (err) => {
    out += `\n[could not start bash: ${err.message}]\n`;
  });
  let stdout = '';
  child.stdout?.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr?.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((r) => {
    child.once('close', (c) => r(c));
    child.once('error', () => r(null));
  });
  // The whole group, even when its first process has exited: what it started may still run
  // (a group id is not reused while any member lives).
  const signal = (s: NodeJS.Signals) => {
    if (pgid !== undefined) killGroup(pgid, s);
  };
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    closed,
    interrupt: () => signal('SIGINT'),
    kill: () => signal('SIGKILL'),
  };
}

/** The README's text under `## <heading>`, up to the next `## ` heading (not one in a code block). */
export function readmeSection(heading: string): string {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  let fenced = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^ *```/.test(line)) fenced = !fenced;
    else if (!fenced && line.startsWith('## ')) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}

/**
 * The fenced code blocks of the README section under `## <heading>` (up to the next `## `),
 * in order, each without its fence lines.
 */
export function readmeBlocks(heading: string): string[] {
  // A block indented under a list item loses its fence's indent, no more.
  return [...readmeSection(heading).matchAll(/^( *)```\w*\n([\s\S]*?)^\1```$/gm)].map((m) => {
    const indent = (m[1] as string).length;
    return (m[2] as string)
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n')
      .trimEnd();
  });
}

/**
 * A fresh copy of the checkout, as `git clone` would give it: the files git tracks plus the
 * new ones it would (not the ignored: node_modules, dist, data, web/dist…). Without git (an
 * unpacked source archive), everything but those folders.
 */
export function freshCopy(to: string): void {
  let files: string[] | undefined;
  try {
    files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\0')
      .filter(Boolean);
  } catch {
    files = undefined;
  }
  mkdirSync(to, { recursive: true });
  if (files) {
    for (const f of files) {
      mkdirSync(dirname(join(to, f)), { recursive: true });
      try {
        cpSync(join(ROOT, f), join(to, f));
      } catch (err) {
        // Deleted in the working tree but not yet in git's index: not part of the copy.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return;
  }
  const skip = ['node_modules', 'dist', 'data', 'test-output', '.git', '.tmp'];
  for (const f of readdirSync(ROOT))
    if (!skip.includes(f))
      cpSync(join(ROOT, f), join(to, f), {
        recursive: true,
        filter: (src) => !src.startsWith(join(ROOT, 'web', 'dist')),
      });
}

/** Whether nothing listens on `port` (any address). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const s = createServer();
    s.once('error', () => resolveFree(false));
    s.listen(port, () => s.close(() => resolveFree(true)));
  });
}
