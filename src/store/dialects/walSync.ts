import { close, fsync, open } from 'node:fs';
import type { DatabaseConnection, Driver, TransactionSettings } from 'kysely';

/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * With `synchronous=FULL` SQLite fsyncs the WAL inside every COMMIT, and better-sqlite3 runs
 * that on the event loop: every HTTP request that arrives meanwhile waits (profiles showed
 * the commits as the largest block of main-thread time). Instead the connection runs with
 * `synchronous=NORMAL` — a commit writes its WAL frames (safe from a process crash, kill -9,
 * as soon as the write returns) — and the driver below fsyncs the WAL file in the libuv
 * thread pool before the committing caller continues. So a caller still learns "committed"
 * only once its transaction is on stable storage (the guarantee of FULL), while the event
 * loop serves other requests during the fsync and the SQLite connection is already free for
 * the next transaction.
 *
 * Why this is as safe as FULL: fsync(2) flushes the file, not the descriptor, so syncing the
 * WAL through our own descriptor covers the frames SQLite wrote. In WAL mode with NORMAL,
 * SQLite itself fsyncs the WAL before a checkpoint copies it into the database and the
 * database before the WAL is reused, so frames we synced are always either in the synced WAL
 * or in the synced database. A torn, unsynced tail after a power cut fails its frame
 * checksums and is ignored at recovery: exactly the transactions nobody was told about.
 */
export interface WalSync {
  /** Resolves once everything committed before the call is on stable storage. */
  durable(): Promise<void>;
  /** fsyncs done so far (for tests and the bench). */
  readonly syncs: number;
  /** Closes the WAL descriptor (with the database). */
  close(): void;
}

/**
 * fsync of one file through a descriptor kept open (opened on first use, reopened after an
 * error). The WAL keeps its inode while the database is open: SQLite truncates or rewrites
 * it, and deletes it only when the last connection closes.
 */
export function makeFileSync(path: string): { sync(): Promise<void>; close(): void } {
  let fd: number | undefined;
  const drop = () => {
    if (fd !== undefined) close(fd, () => {});
    fd = undefined;
  };
  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        const run = (f: number) =>
          fsync(f, (err) => {
            if (!err) return resolve();
            drop();
            reject(err);
          });
        if (fd !== undefined) return run(fd);
        open(path, 'r', (err, f) => {
          // No WAL file yet means nothing was committed into one.
          if (err) return err.code === 'ENOENT' ? resolve() : reject(err);
          fd = f;
          run(f);
        });
      }),
    close: drop,
  };
}

/**
 * Coalesced fsyncs of one file: at most one in flight; callers that arrive while one runs all
 * share the next one (it must start after their commits), so N commits during an fsync cost
 * one more fsync, not N.
 */
export function makeWalSync(
  walPath: string,
  file: { sync(): Promise<void>; close(): void } = makeFileSync(walPath),
): WalSync {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  let syncs = 0;
  const start = (): Promise<void> => {
    syncs++;
    const p = file.sync().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };
  return {
    durable() {
      if (!running) return start();
      // After the one in flight, whether it worked or not.
      const again = () => {
        next = undefined;
        return start();
      };
      next ??= running.then(again, again);
      return next;
    },
    get syncs() {
      return syncs;
    },
    close: () => file.close(),
  };
}

/**
 * Kysely driver around the SQLite driver: when a connection is released after it committed
 * a write (a COMMIT after writes, or a write outside a transaction), the release waits for
 * the WAL fsync. Kysely awaits `releaseConnection` before it returns to the caller of a
 * query or a transaction, and the driver's mutex is unlocked first, so the next transaction
 * proceeds during the fsync.
 */
export class DurableDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly wal: WalSync,
    /** Whether the connection committed a write since the last call (and resets that). */
    private readonly takeDirty: () => boolean,
  ) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    return this.inner.acquireConnection();
  }
  beginTransaction(c: DatabaseConnection, s: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(c, s);
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(c);
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(c);
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const dirty = this.takeDirty();
    await this.inner.releaseConnection(c);
    if (dirty) await this.wal.durable();
  }
  async destroy(): Promise<void> {
    await this.inner.destroy();
    this.wal.close();
  }
}
