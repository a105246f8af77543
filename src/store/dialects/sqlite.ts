import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { withStatementCache } from './statementCache.js';
import type { Connection, DialectCaps } from './types.js';

export const sqliteCaps: DialectCaps = {
  name: 'sqlite',
  bigint: 'integer',
  autoIncrement: 'integer primary key autoincrement',
  greatest: 'max',
  skipLocked: false,
  multiInstance: false,
};

/**
 * Opens (creating the folder if needed) a SQLite file in WAL mode.
 * synchronous=FULL: a message we acknowledged survives a power cut, not just a process
 * crash (WAL+NORMAL only guarantees the latter); it costs an fsync per commit.
 */
export function openSqlite(path: string): Connection {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new SqliteDatabase(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(raw) }),
  });
  return { db, caps: sqliteCaps, describe: `sqlite:${path}`, close: () => db.destroy() };
}
