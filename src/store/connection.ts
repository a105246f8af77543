import { sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/**
 * Resolves once the database answers a trivial query (readiness); rejects when it cannot, or
 * when it can no longer be trusted (SQLite: its file was deleted or replaced under us).
 */
export async function ping(conn: Connection): Promise<void> {
  conn.assertIntact?.();
  await sql`select 1`.execute(conn.db);
}

/**
 * Runs `fn` in one transaction: everything it writes through the connection it is given
 * commits together when it resolves (one commit, one fsync on SQLite), or not at all when it
 * throws. Store functions called with that connection join the transaction.
 */
export function inTransaction<T>(conn: Connection, fn: (tx: Connection) => Promise<T>): Promise<T> {
  return conn.db.transaction().execute((trx) => fn({ ...conn, db: trx }));
}
