import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import {
  type Bitrix24Emulator,
  type Bitrix24EmulatorOptions,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import {
  type MtsEmulator,
  type MtsEmulatorOptions,
  startMtsEmulator,
} from '../../src/emulators/mts/index.js';
import { silentLogger } from '../../src/log.js';
import { createService, type Service } from '../../src/service.js';
import { type ServiceProcess, spawnService } from './child.js';
import { createTestDb, type DialectName, type TestDb } from './db.js';
import { freePort } from './wait.js';

export interface Harness {
  db: TestDb;
  mts: MtsEmulator;
  b24: Bitrix24Emulator;
  service: Service;
  /** The service's base URL (also its PUBLIC_URL). */
  url: string;
  /** Environment that configures a service (e.g. a child process) against these emulators and database. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  dialect: DialectName;
  /** Settings over the defaults; a function gets the defaults (e.g. the emulators' URLs). */
  env?: Record<string, string> | ((defaults: Record<string, string>) => Record<string, string>);
  mts?: MtsEmulatorOptions;
  b24?: Bitrix24EmulatorOptions;
  /** Install the emulated portal into the service (default true). */
  install?: boolean;
  /** Start the sender and pusher (default true). */
  workers?: boolean;
  /** The service's clock (default the system clock). */
  clock?: Clock;
}

/** The environment of a service on `port` using these emulators and this database. */
export function serviceEnv(
  db: TestDb,
  mts: MtsEmulator,
  b24: Bitrix24Emulator,
  port: number,
): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.schema ? `${db.url}?schema=${db.schema}` : db.url,
    MTS_API_URL: mts.url,
    MTS_CLIENT_ID: mts.clientId,
    MTS_LOGIN: mts.login,
    MTS_PASSWORD: mts.password,
    MTS_SENDER: 'SANDBOX',
    MTS_SENDER_MARKETING: 'SANDBOXMKT',
    MTS_RATE_LIMIT: '50',
    MTS_TIMEOUT: '5',
    // A lookup's "not found" is trusted after 2 s instead of 120 s, so retries fit in a test.
    MTS_LOOKUP_GRACE: '2',
    B24_CLIENT_ID: b24.clientId,
    B24_CLIENT_SECRET: b24.clientSecret,
    B24_OAUTH_URL: b24.url,
    B24_PUSH_DELAY_MS: '100',
    // Tests run at any hour: quiet hours are tested explicitly.
    MARKETING_QUIET_HOURS: '',
    LOG_LEVEL: 'silent',
  };
}

export interface ChildHarness {
  db: TestDb;
  mts: MtsEmulator;
  b24: Bitrix24Emulator;
  url: string;
  env: Record<string, string>;
  /** The running service process (replace it after a kill or stop). */
  proc: ServiceProcess;
  close(): Promise<void>;
}

/** Emulators in this process, the service as a child process (SQLite file by default), installed. */
export async function startChildHarness(opts: {
  /** Database the service runs on (default SQLite). */
  dialect?: DialectName;
  mts?: MtsEmulatorOptions;
  b24?: Bitrix24EmulatorOptions;
  env?: Record<string, string>;
  /** The service's DATABASE_URL for this test database (default: the database itself). */
  databaseUrl?: (db: TestDb) => string;
}): Promise<ChildHarness> {
  const db = await createTestDb(opts.dialect ?? 'sqlite');
  const mts = await startMtsEmulator(opts.mts);
  const b24 = await startBitrix24Emulator(opts.b24);
  const port = await freePort();
  const env: Record<string, string> = {
    ...serviceEnv(db, mts, b24, port),
    LOG_LEVEL: 'warn',
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl(db) } : {}),
    ...opts.env,
  };
  const url = env.PUBLIC_URL as string;
  const h: ChildHarness = {
    db,
    mts,
    b24,
    url,
    env,
    proc: await spawnService(env, url),
    async close() {
      await h.proc.stop();
      await Promise.allSettled([mts.close(), b24.close()]);
      await db.cleanup();
    },
  };
  const status = await b24.install(url);
  if (status !== 200) throw new Error(`install answered ${status}`);
  return h;
}

/** Emulators + a real service on a fresh database, all over loopback HTTP. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const db = await createTestDb(opts.dialect);
  const mts = await startMtsEmulator({ dlr: { delayMs: 50 }, ...opts.mts });
  const b24 = await startBitrix24Emulator({ ...opts.b24 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const defaults = serviceEnv(db, mts, b24, port);
  const env = {
    ...defaults,
    ...(typeof opts.env === 'function' ? opts.env(defaults) : opts.env),
  };
  const config = loadConfig(env);
  const service = await createService({
    config,
    logger: silentLogger,
    conn: db.conn,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await service.app.listen({ port, host: '127.0.0.1' });
  if (opts.install !== false) {
    const status = await b24.install(url);
    if (status !== 200) throw new Error(`install answered ${status}`);
  }
  if (opts.workers !== false) service.startWorkers();
  return {
    db,
    mts,
    b24,
    service,
    url,
    env,
    async close() {
      await service.close();
      await Promise.allSettled([mts.close(), b24.close()]);
      await db.cleanup();
    },
  };
}
