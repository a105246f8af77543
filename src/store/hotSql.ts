import { CompiledQuery, type QueryResult } from 'kysely';
import type { Connection } from './dialects/types.js';

const postgresText = new Map<string, string>();

/** `?` placeholders → `$1, $2, …` (the texts given here hold no `?` inside literals). */
function toPostgres(text: string): string {
  let cached = postgresText.get(text);
  if (!cached) {
    let n = 0;
    cached = text.replace(/\?/g, () => `$${++n}`);
    postgresText.set(text, cached);
  }
  return cached;
}

/**
 * Runs a constant SQL text with `?` placeholders through the connection's driver (its
 * transaction, locking and durability) without building and compiling a query: for the few
 * statements every message runs at intake, where Kysely's builder and compiler cost about as
 * much as SQLite's own work (measured ~29 µs per message). Keep the text constant, so the
 * statement cache finds it.
 */
export function runHot<R>(
  conn: Connection,
  text: string,
  params: readonly unknown[],
): Promise<QueryResult<R>> {
  const sql = conn.caps.name === 'postgres' ? toPostgres(text) : text;
  return conn.db.executeQuery<R>(CompiledQuery.raw(sql, params as unknown[]));
}
