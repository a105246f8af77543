import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * What differs between the backends, as data rather than scattered `if (sqlite)` branches
 * (the pg-boss habit).
 */
export interface DialectCaps {
  name: 'sqlite' | 'postgres';
  /** Column type for epoch-millisecond timestamps. */
  bigint: 'integer' | 'bigint';
  /** Column definition of an auto-increment primary key. */
  autoIncrement:
    | 'integer primary key autoincrement'
    | 'bigint generated always as identity primary key';
  /** Two-argument maximum: `max(a,b)` on SQLite, `greatest(a,b)` on PostgreSQL. */
  greatest: 'max' | 'greatest';
  /** Row locks with SKIP LOCKED, so several instances can claim from one table. */
  skipLocked: boolean;
  /** Several service instances may share the database. */
  multiInstance: boolean;
}

export interface Connection {
  db: Kysely<Database>;
  caps: DialectCaps;
  /** Human description without secrets, e.g. `sqlite:./data/x.sqlite`. */
  describe: string;
  /** PostgreSQL schema the connection works in (created by migrate), when not `public`. */
  schema?: string | undefined;
  close(): Promise<void>;
  /**
   * Throws when the database can no longer be trusted (SQLite: its file was deleted or
   * replaced under us). Writes check it themselves; readiness checks call it.
   */
  assertIntact?: () => void;
  /** SQLite: WAL fsyncs done so far (see walSync.ts); for tests and the bench. */
  walSyncs?: () => number;
}
