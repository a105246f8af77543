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
}

export function openPostgres(url: string, opts: PostgresOptions = {}): Connection {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    types,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema))
    throw new Error(`invalid schema name ${opts.schema}`);
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
