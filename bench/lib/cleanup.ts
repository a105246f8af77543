/**
 * Everything the bench starts or creates is registered here, so that it is removed on every
 * way out: the normal path (each part's `finally`), an exception, Ctrl-C / SIGTERM, and the
 * global time limit. Child processes are also SIGKILLed synchronously on `exit`, the last
 * moment any code runs.
 */
import type { ChildProcess } from 'node:child_process';

type Cleanup = () => Promise<void> | void;

const children = new Set<ChildProcess>();
const pending = new Map<number, { label: string; fn: Cleanup }>();
let nextId = 1;

/** Tracks a child process until it exits; it is killed if the bench leaves first. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Registers an asynchronous cleanup; call the returned function to run it now (once). */
export function defer(label: string, fn: Cleanup): () => Promise<void> {
  const id = nextId++;
  pending.set(id, { label, fn });
  return async () => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    await entry.fn();
  };
}

/** Runs every registered cleanup (newest first) and kills the children still alive. */
export async function cleanupAll(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [, { label, fn }] of entries) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup "${label}" failed: ${(err as Error).message}\n`);
    }
  }
}

let installed = false;

/** Installs the signal, exit and deadline handlers (once). */
export function installCleanupHandlers(maxMinutes: number): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  const bail = (why: string, code: number) => {
    process.stderr.write(`\nbench: ${why}; cleaning up\n`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail('interrupted', 130));
  process.once('SIGTERM', () => bail('terminated', 143));
  setTimeout(() => bail(`time limit of ${maxMinutes} min reached`, 1), maxMinutes * 60_000).unref();
}
