/** Starts bench/child/emulators.ts and talks to it over the IPC channel. */
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { resolve } from 'node:path';
import type {
  ChildMessage,
  CommandName,
  CommandRequest,
  EmulatorCommands,
  EmulatorInfo,
} from '../child/emulatorProtocol.js';
import { defer, trackChild } from './cleanup.js';
import { ROOT } from './paths.js';

export interface EmulatorProcess {
  info: EmulatorInfo;
  pid: number;
  call<K extends CommandName>(cmd: K, arg: EmulatorCommands[K][0]): Promise<EmulatorCommands[K][1]>;
  close(): Promise<void>;
}

const CALL_TIMEOUT_MS = 60_000;

export interface EmulatorProcessOptions {
  /**
   * The process's nice value (0–19; higher = less CPU when the machine is busy). The emulators
   * stand in for MTS's and Bitrix24's servers, which run elsewhere in production.
   */
  nice?: number;
}

export async function startEmulatorProcess(
  opts: EmulatorProcessOptions = {},
): Promise<EmulatorProcess> {
  const child = fork(resolve(ROOT, 'bench/child/emulators.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  // Raising one's own children's nice value needs no privilege.
  if (opts.nice && child.pid) setPriority(child.pid, opts.nice);
  const waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  let nextId = 1;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(`emulator process exited (${code ?? signal})`));
    }
    waiting.clear();
  });

  const info = await new Promise<EmulatorInfo>((resolveReady, rejectReady) => {
    const timer = setTimeout(
      () => rejectReady(new Error('emulator process not ready in 30 s')),
      30_000,
    );
    child.once('exit', (code) => rejectReady(new Error(`emulator process exited with ${code}`)));
    child.on('message', (msg: ChildMessage) => {
      if ('type' in msg) {
        clearTimeout(timer);
        resolveReady(msg.info);
        return;
      }
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new Error(`emulator: ${msg.error}`));
    });
  });

  const close = defer('emulator process', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  });

  return {
    info,
    pid: child.pid ?? -1,
    call<K extends CommandName>(cmd: K, arg: EmulatorCommands[K][0]) {
      const id = nextId++;
      const req: CommandRequest<K> = { id, cmd, arg };
      return new Promise<EmulatorCommands[K][1]>((res, rej) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          rej(new Error(`emulator: ${cmd} did not answer in ${CALL_TIMEOUT_MS / 1000} s`));
        }, CALL_TIMEOUT_MS);
        waiting.set(id, { resolve: res as (v: unknown) => void, reject: rej, timer });
        child.send(req);
      });
    },
    close,
  };
}
