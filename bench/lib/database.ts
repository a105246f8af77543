/**
 * A throwaway database per measurement: a SQLite file in a temp folder, or a PostgreSQL
 * schema of its own (`?schema=bench_…`, dropped afterwards). The schema is created with the
 * project's own `connect`/`migrate`; the bench then reads and seeds it with plain SQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { connect, migrate } from '../../src/store/index.js';
import { defer } from './cleanup.js';

export type Dialect = 'sqlite' | 'postgres';

export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDb {
  dialect: Dialect;
  /** DATABASE_URL for the service. */
  url: string;
  /** PostgreSQL schema, or undefined on SQLite. */
  schema: string | undefined;
  /** SQLite file path, or undefined on PostgreSQL. */
  file: string | undefined;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /** The bench's SQLite connection (SQLite only). */
  sqlite(): SqliteDatabase.Database;
  /** Closes the bench's connection and removes the database. */
  destroy(): Promise<void>;
}

/** True when PostgreSQL answers at PG_URL within 2 s. */
export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export async function createBenchDb(dialect: Dialect): Promise<BenchDb> {
  return dialect === 'sqlite' ? createSqlite() : createPostgres();
}

async function createSqlite(): Promise<BenchDb> {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-bench-'));
  const removeDir = defer(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bench.sqlite');
  const url = `sqlite:${file}`;
  const conn = connect(url);
  try {
    await migrate(conn);
  } finally {
    await conn.close();
  }
  let raw: SqliteDatabase.Database | undefined;
  const open = () => {
    raw ??= new SqliteDatabase(file);
    raw.pragma('busy_timeout = 10000');
    return raw;
  };
  return {
    dialect: 'sqlite',
    url,
    schema: undefined,
    file,
    async query<T>(sql: string) {
      return open().prepare(sql).all() as T[];
    },
    async exec(sql: string) {
      open().exec(sql);
    },
    sqlite: open,
    async destroy() {
      raw?.close();
      raw = undefined;
      await removeDir();
    },
  };
}

async function createPostgres(): Promise<BenchDb> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const url = `${PG_URL}?schema=${schema}`;
  const dropSchema = defer(`PostgreSQL schema ${schema}`, async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      // Bounded: a leftover schema is harmless, a cleanup that waits forever is not.
      await c.query('set statement_timeout = 30000');
      await c.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await c.end();
    }
  });
  const conn = connect(url);
  try {
    await migrate(conn);
  } finally {
    await conn.close();
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`set search_path to ${schema}`);
  let closed = false;
  return {
    dialect: 'postgres',
    url,
    schema,
    file: undefined,
    async query<T>(sql: string) {
      return (await client.query(sql)).rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
    sqlite() {
      throw new Error('not a SQLite database');
    },
    async destroy() {
      if (!closed) {
        closed = true;
        await client.end().catch(() => {});
      }
      await dropSchema();
    },
  };
}

/** `count(*)` of a query's rows matching `where`. */
export async function count(db: BenchDb, table: string, where = '1=1'): Promise<number> {
  const rows = await db.query<{ n: number | string }>(
    `select count(*) as n from ${table} where ${where}`,
  );
  return Number(rows[0]?.n ?? 0);
}
