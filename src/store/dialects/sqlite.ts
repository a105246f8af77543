import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { DatabaseMissingError, DatabaseUnavailableError } from '../errors.js';
import type { Database } from '../schema.js';
import { withStatementCache } from './statementCache.js';
import type { Connection, DialectCaps } from './types.js';
import { DurableDriver, makeWalSync, type WalSync } from './walSync.js';

export const sqliteCaps: DialectCaps = {
  name: 'sqlite',
  bigint: 'integer',
  autoIncrement: 'integer primary key autoincrement',
  greatest: 'max',
  skipLocked: false,
  multiInstance: false,
};

/**
 * When a missing database file may be created:
 * - `always`: `migrate`, the explicit way to start an empty database;
 * - `fresh`: only on a fresh install — the file's folder does not exist yet, or is empty
 *   (hidden files and `lost+found` aside). A folder with other files in it but no database
 *   means the database was there and is gone: refuse, so the service never starts over on
 *   an empty database by accident.
 */
export type SqliteCreatePolicy = 'always' | 'fresh';

export interface SqliteOptions {
  /** Default `fresh`. */
  create?: SqliteCreatePolicy;
}

/**
 * SQLite's page cache, KiB. better-sqlite3 builds SQLite with 16 MiB, which a service sending a
 * campaign fills within minutes — a tenth of its memory. The pages it reads most (the tails of
 * the append-only indexes, the claim index) are a few MiB; the rest comes from the operating
 * system's file cache at a few microseconds a page. 4 MiB instead of 8 MiB: bench:campaign
 * --quick peak RSS ~5 MiB lower, the rate and the service's CPU time the same within noise.
 */
export const SQLITE_CACHE_KIB = 4096;

/** Written beside the database when it vanishes under a running service (see `guard`). */
export const LOST_NOTE_SUFFIX = '.lost.txt';

function ignorable(entry: string): boolean {
  return entry.startsWith('.') || entry === 'lost+found';
}

function checkCreateAllowed(path: string, policy: SqliteCreatePolicy): void {
  if (policy === 'always') return;
  const dir = dirname(path);
  if (!existsSync(dir)) return;
  const others = readdirSync(dir).filter((e) => !ignorable(e));
  if (others.length === 0) return;
  const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? ', …' : '');
  throw new DatabaseMissingError(
    `the SQLite database ${path} does not exist, but its folder ${dir} is not empty (${shown}): ` +
      'the database may have been deleted or moved. Restore it, or run `b24-mts-sms migrate` ' +
      'to create a new, empty database on purpose.',
  );
}

/**
 * Opens a SQLite file in WAL mode (creating it only as `opts.create` allows).
 * Durability is that of synchronous=FULL — a message we acknowledged survives a power cut,
 * not just a process crash — but the fsync of each commit runs in the thread pool, not on
 * the event loop (see walSync.ts): the connection runs with synchronous=NORMAL and every
 * query or transaction that committed a write returns only after its WAL fsync.
 *
 * Every commit, and every write outside a transaction, first checks that the path still
 * names the file we opened (same device and inode). SQLite keeps writing happily into a file that was deleted or replaced under
 * it, and each such commit would be lost at the next restart; instead the connection fails
 * with DatabaseUnavailableError from then on, so nothing more is acknowledged, and a note
 * is left at the path saying what happened (which also stops a restart from creating an
 * empty database there: the folder is no longer empty).
 */
export function openSqlite(path: string, opts: SqliteOptions = {}): Connection {
  const memory = path === ':memory:';
  if (!memory && !existsSync(path)) {
    checkCreateAllowed(path, opts.create ?? 'fresh');
    mkdirSync(dirname(path), { recursive: true });
  }
  const raw = new SqliteDatabase(path);
  raw.pragma('journal_mode = WAL');
  // NORMAL + our own fsync before the caller continues (walSync.ts) = FULL's guarantee.
  // An in-memory database has nothing to sync.
  raw.pragma(memory ? 'synchronous = OFF' : 'synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);

  const opened = memory ? undefined : statSync(path);
  let lost: DatabaseUnavailableError | undefined;
  const guard = () => {
    if (!opened) return;
    if (lost) throw lost;
    const now = statSync(path, { throwIfNoEntry: false });
    if (now && now.ino === opened.ino && now.dev === opened.dev) return;
    const what = now ? 'replaced by another file' : 'deleted (or its folder was)';
    lost = new DatabaseUnavailableError(
      `the SQLite database ${resolve(path)} was ${what} while the service was running; ` +
        'nothing more is accepted. Restore the file and restart, or run `b24-mts-sms migrate` ' +
        'to start a new, empty database on purpose.',
    );
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(
        `${path}${LOST_NOTE_SUFFIX}`,
        `${new Date().toISOString()}: ${lost.message}\n`,
        { flag: 'a' },
      );
    } catch {
      // Best effort: the error itself is what matters.
    }
    throw lost;
  };
  // Whether a write was committed since the driver last asked (then it waits for the fsync):
  // a COMMIT after writes, or a write outside a transaction (autocommit).
  let wroteInTxn = false;
  let dirty = false;
  const cached = withStatementCache(raw);
  const database = {
    prepare: (sql: string) => {
      if (lost) throw lost;
      const inTxn = raw.inTransaction;
      const stmt = cached.prepare(sql);
      // `readonly`, not `reader`: an INSERT … RETURNING is a reader that writes.
      const writes = !(stmt as unknown as { readonly: boolean }).readonly;
      // What must not happen is a commit into a lost file: check before every COMMIT and every
      // write outside a transaction — not before reads, nor each statement inside one.
      if (sql === 'commit' || (!inTxn && writes && sql !== 'begin')) guard();
      if (sql === 'commit') {
        if (wroteInTxn) dirty = true;
        wroteInTxn = false;
      } else if (sql === 'rollback' || sql === 'begin') {
        wroteInTxn = false;
      } else if (writes) {
        if (inTxn) wroteInTxn = true;
        else dirty = true;
      }
      return stmt;
    },
    close: () => cached.close(),
  };
  const wal: WalSync | undefined = memory ? undefined : makeWalSync(`${path}-wal`);
  const takeDirty = () => {
    const d = dirty;
    dirty = false;
    return d;
  };
  class Dialect extends SqliteDialect {
    override createDriver() {
      const inner = super.createDriver();
      return wal ? new DurableDriver(inner, wal, takeDirty) : inner;
    }
  }
  const db = new Kysely<Database>({ dialect: new Dialect({ database }) });
  return {
    db,
    caps: sqliteCaps,
    describe: `sqlite:${path}`,
    close: () => db.destroy(),
    assertIntact: guard,
    ...(wal ? { walSyncs: () => wal.syncs } : {}),
  };
}
