import type { Connection } from './dialects/types.js';

type Job = {
  fn: (conn: Connection) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * Group commit: work that arrives while a commit is in progress is committed together in the
 * next transaction, so N concurrent handler POSTs cost one fsync instead of N. Every caller
 * still gets its promise only after its own work is durable. If a grouped transaction fails,
 * its jobs are retried one by one, so one bad job never fails the others.
 *
 * Two groups may be in flight: while one waits for its fsync (SQLite: in the thread pool,
 * see dialects/walSync.ts), the next one already runs its statements and commits. A group
 * takes its jobs only once it holds the transaction, so it includes everything that
 * arrived while it waited for the connection.
 */
export function makeGroupCommit(
  conn: Connection,
  opts: {
    maxBatch?: number;
    /**
     * Wait this long for companions before a commit (default 0: the first job commits at
     * once). For work nobody waits on, such as send outcomes that a crash would only turn
     * into a lookup.
     */
    lingerMs?: number;
    /** Groups in flight at once (default 2). */
    pipeline?: number;
  } = {},
) {
  const maxBatch = opts.maxBatch ?? 200;
  const lingerMs = opts.lingerMs ?? 0;
  const pipeline = Math.max(1, opts.pipeline ?? 2);
  let queue: Job[] = [];
  let active = 0;

  const single = (j: Job) =>
    conn.db
      .transaction()
      .execute((trx) => j.fn({ ...conn, db: trx }))
      .then(j.resolve, j.reject);

  async function drain(): Promise<void> {
    active++;
    try {
      if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
      while (queue.length) {
        let jobs: Job[] = [];
        let results: unknown[];
        try {
          results = await conn.db.transaction().execute(async (trx) => {
            jobs = queue.slice(0, maxBatch);
            queue = queue.slice(jobs.length);
            const tconn = { ...conn, db: trx };
            const out: unknown[] = [];
            for (const j of jobs) out.push(await j.fn(tconn));
            return out;
          });
        } catch (err) {
          if (jobs.length === 1) (jobs[0] as Job).reject(err);
          else for (const j of jobs) await single(j);
          continue;
        }
        jobs.forEach((j, i) => {
          j.resolve(results[i]);
        });
      }
    } finally {
      active--;
    }
  }

  return {
    /** Runs `fn` inside a (shared) transaction; resolves once it is committed. */
    run<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        // The first job starts a group at once; jobs arriving meanwhile go into the next one,
        // which may already start (and wait for the connection) while the first commits.
        if (active < pipeline) void drain();
      });
    },
  };
}
export type GroupCommit = ReturnType<typeof makeGroupCommit>;
