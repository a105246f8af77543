import { openPostgres, type PostgresOptions } from './dialects/postgres.js';
import { openSqlite, type SqliteCreatePolicy } from './dialects/sqlite.js';
import type { Connection } from './dialects/types.js';

export type { Connection };

export interface ConnectOptions extends PostgresOptions {
  /** SQLite: when a missing database file may be created (default `fresh`; `migrate` uses `always`). */
  create?: SqliteCreatePolicy;
}

/** Opens `sqlite:<path>` or `postgres://…` (SPEC §6 DATABASE_URL). */
export function connect(databaseUrl: string, opts: ConnectOptions = {}): Connection {
  const { create, ...pgOptions } = opts;
  if (databaseUrl.startsWith('sqlite:'))
    return openSqlite(databaseUrl.slice('sqlite:'.length) || ':memory:', {
      ...(create ? { create } : {}),
    });
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // Our extension: `?schema=name` works in that PostgreSQL schema (created by migrate).
    const u = new URL(databaseUrl);
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    return openPostgres(u.toString(), { ...(schema ? { schema } : {}), ...pgOptions });
  }
  throw new Error(`DATABASE_URL must be sqlite:<path> or postgres://…, got "${databaseUrl}"`);
}
