import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import type { Connection, DialectCaps } from './types.js';

export const postgresCaps: DialectCaps = {
  name: 'postgres',
  bigint: 'bigint',
  autoIncrement: 'bigint generated always as identity primary key',
  greatest: 'greatest',
  skipLocked: true,
  multiInstance: true,
};

/** Epoch-ms timestamps fit easily in a double: read BIGINT/COUNT as numbers, not strings. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Use this schema (created if missing) instead of `public`; tests give each run its own. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** How long to wait for a new server connection before the query fails (default 10 000 ms). */
  connectionTimeoutMs?: number;
  /**
   * Called when a pooled connection dies (the server restarted, an administrator terminated
   * the backend, the network dropped it). A query running on it fails on its own; the pool
   * drops the connection and the next query opens a new one. Default: ignored.
   */
  onConnectionError?: (err: Error) => void;
}

export function openPostgres(url: string, opts: PostgresOptions = {}): Connection {
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema))
    throw new Error(`invalid schema name ${opts.schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    types,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // A dead connection emits 'error' on its client, and the pool forwards it only while the
  // client is idle: idle or checked out (mid-transaction, between statements), an 'error'
  // event without a listener kills the process. Queries in flight fail on their own.
  const onError = (err: Error) => opts.onConnectionError?.(err);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const safe = url.replace(/\/\/[^@/]*@/, '//***@');
  return {
    db,
    caps: postgresCaps,
    schema: opts.schema,
    describe: safe + (opts.schema ? ` (schema ${opts.schema})` : ''),
    close: () => db.destroy(),
  };
}
