import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type {
  MtsEmulatorOptions,
  RequestRecord,
  SentRecord,
} from '../../src/emulators/mts/index.js';

export interface MtsProcess {
  url: string;
  clientId: string;
  login: string;
  password: string;
  /** What the emulator has seen so far. */
  records(): Promise<{ requests: RequestRecord[]; sent: SentRecord[] }>;
  close(): Promise<void>;
}

/** Starts the MTS emulator in a child process (fork, with IPC for its records). */
export async function startMtsProcess(opts: MtsEmulatorOptions = {}): Promise<MtsProcess> {
  const child = fork(resolve(import.meta.dirname, 'mtsChildMain.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MTS_EMULATOR_OPTIONS: JSON.stringify(opts) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{
    url: string;
    clientId: string;
    login: string;
    password: string;
  }>((res, rej) => {
    child.once('message', (m) => res(m as never));
    child.once('exit', (code) => rej(new Error(`MTS emulator process exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    ...ready,
    records: () =>
      new Promise((res) => {
        const on = (m: { type: string; requests: RequestRecord[]; sent: SentRecord[] }) => {
          if (m.type !== 'records') return;
          child.off('message', on);
          res({ requests: m.requests, sent: m.sent });
        };
        child.on('message', on);
        child.send({ type: 'records' });
      }),
    async close() {
      if (child.exitCode === null) {
        child.send({ type: 'close' });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}
