import { type Bitrix24Client, createBitrix24Client } from '../../src/bitrix24/client.js';
import { type Clock, systemClock } from '../../src/clock.js';
import type { ConsentDeps } from '../../src/consent/types.js';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import { silentLogger } from '../../src/log.js';
import { makeTokenStore } from '../../src/store/index.js';
import {
  createTestDb,
  type DialectName,
  installEmulatedPortal,
  type TestDb,
} from '../helpers/db.js';

/** A fresh migrated test database (the consent tables come with migrate()). */
export async function createConsentDb(dialect: DialectName): Promise<TestDb> {
  return createTestDb(dialect);
}

/** The emulator's clock: live time, or pinned while seeding records "in the past". */
export class PortalClock implements Clock {
  pinned: number | null = null;
  now(): number {
    return this.pinned ?? Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
}

export interface ConsentEnv {
  db: TestDb;
  emu: Bitrix24Emulator;
  api: Bitrix24Client;
  portalId: string;
  portalClock: PortalClock;
  deps: ConsentDeps;
  /** REST requests the emulated portal has received so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A database, a Bitrix24 emulator with the default 2 req/s (burst 50) bucket, the portal
 * installed in our portals table, and our real REST client talking to it over loopback.
 */
export async function startConsentEnv(dialect: DialectName): Promise<ConsentEnv> {
  const db = await createConsentDb(dialect);
  const portalClock = new PortalClock();
  const emu = await startBitrix24Emulator({ clock: portalClock, accessTokenTtlSec: 86_400 });
  emu.setBucket(2, 50);
  await installEmulatedPortal(db.conn, emu);
  const api = createBitrix24Client({
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    oauthServers: [emu.url],
    tokens: makeTokenStore(db.conn, systemClock),
    rate: 2,
    burst: 50,
    timeoutMs: 10_000,
  });
  return {
    db,
    emu,
    api,
    portalId: emu.memberId,
    portalClock,
    deps: { conn: db.conn, api, clock: systemClock, logger: silentLogger },
    requests: () => emu.restRequests.total,
    async close() {
      await emu.close();
      await db.cleanup();
    },
  };
}
