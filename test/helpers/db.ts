import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_CONTRACT, upsertContract } from '../../src/store/contracts.js';
import { type Connection, connect, migrate } from '../../src/store/index.js';
import type { NewMessage } from '../../src/store/outbox.js';
import { type Portal, upsertPortal } from '../../src/store/portals.js';

/** The PostgreSQL server tests use (SPEC: 127.0.0.1:5432, trust auth, database `test`). */
export const TEST_PG_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const pgAvailable = await probePostgres();
if (!pgAvailable) {
  if (process.env.REQUIRE_PG === '1') {
    throw new Error(`REQUIRE_PG=1 but PostgreSQL does not answer at ${TEST_PG_URL}`);
  }
  console.warn(
    `\n*** PostgreSQL not reachable at ${TEST_PG_URL}: the PostgreSQL variants of the suite are SKIPPED (set REQUIRE_PG=1 to fail instead) ***\n`,
  );
}

export type DialectName = 'sqlite' | 'postgres';
/** Every backend the contract suites run on; PostgreSQL only when the server answers. */
export const DIALECTS: DialectName[] = pgAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDb {
  conn: Connection;
  /** A DATABASE_URL another process can use to reach the same data (+ schema for PG). */
  url: string;
  schema?: string;
  cleanup(): Promise<void>;
}

/** A fresh, migrated database: a temp SQLite file, or a PostgreSQL schema of its own. */
export async function createTestDb(dialect: DialectName): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'b24mts-'));
    const url = `sqlite:${join(dir, 'test.sqlite')}`;
    const conn = connect(url);
    await migrate(conn);
    return {
      conn,
      url,
      async cleanup() {
        await conn.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const conn = connect(TEST_PG_URL, { schema });
  await migrate(conn);
  return {
    conn,
    url: TEST_PG_URL,
    schema,
    async cleanup() {
      await conn.close();
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        // Bounded: a leftover schema is harmless, a cleanup that waits forever is not.
        await c.query('set statement_timeout = 15000');
        await c.query(`drop schema if exists ${schema} cascade`);
      } catch (err) {
        console.warn(`could not drop test schema ${schema}: ${(err as Error).message}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Stores an installed portal with placeholder tokens (no Bitrix24 behind it). */
export function seedPortal(conn: Connection, id: string, domain: string): Promise<Portal> {
  return upsertPortal(
    conn,
    {
      id,
      domain,
      clientEndpoint: `https://${domain}/rest/`,
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: 0,
      applicationToken: 't',
    },
    Date.now(),
  );
}

/** Stores a Bitrix24 emulator's portal as installed, with fresh tokens from it. */
export function installEmulatedPortal(
  conn: Connection,
  emu: {
    connection(): import('../../src/bitrix24/types.js').PortalConnection;
    applicationToken: string;
  },
): Promise<Portal> {
  const c = emu.connection();
  return upsertPortal(
    conn,
    {
      id: c.portalId,
      domain: c.domain,
      clientEndpoint: c.clientEndpoint,
      serverEndpoint: c.serverEndpoint,
      accessToken: c.accessToken,
      refreshToken: c.refreshToken,
      expiresAt: c.expiresAt,
      applicationToken: emu.applicationToken,
    },
    Date.now(),
  );
}

/** A valid transactional message of portal `member1` with a fresh Bitrix24 id. */
export function testMessage(over: Partial<NewMessage> = {}): NewMessage {
  return {
    portalId: 'member1',
    b24MessageId: `m${Math.random().toString(16).slice(2)}`,
    source: 'crm',
    kind: 'transactional',
    phoneRaw: '+375291234567',
    phone: '+375291234567',
    text: 'hello',
    alphaName: 'BRAND',
    ...over,
  };
}

/** The default MTS contract at rate 10 with Sender ID BRAND (store tests that claim). */
export async function seedDefaultContract(conn: Connection, now: number): Promise<void> {
  await upsertContract(
    conn,
    {
      id: DEFAULT_CONTRACT,
      label: 'test',
      api_url: null,
      client_id: '1',
      login: null,
      password_enc: null,
      token_enc: null,
      sender: 'BRAND',
      sender_marketing: 'BRAND',
      rate: 10,
    },
    now,
  );
}
