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
  } = {},
) {
  const maxBatch = opts.maxBatch ?? 200;
  const lingerMs = opts.lingerMs ?? 0;
  let queue: Job[] = [];
  let running = false;

  const single = (j: Job) =>
    conn.db
      .transaction()
      .execute((trx) => j.fn({ ...conn, db: trx }))
      .then(j.resolve, j.reject);

  async function drain(): Promise<void> {
    running = true;
    try {
      if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
      while (queue.length) {
        const jobs = queue.slice(0, maxBatch);
        queue = queue.slice(jobs.length);
        if (jobs.length === 1) {
          await single(jobs[0] as Job);
          continue;
        }
        let results: unknown[];
        try {
          results = await conn.db.transaction().execute(async (trx) => {
            const tconn = { ...conn, db: trx };
            const out: unknown[] = [];
            for (const j of jobs) out.push(await j.fn(tconn));
            return out;
          });
        } catch {
          for (const j of jobs) await single(j);
          continue;
        }
        jobs.forEach((j, i) => {
          j.resolve(results[i]);
        });
      }
    } finally {
      running = false;
    }
  }

  return {
    /** Runs `fn` inside a (shared) transaction; resolves once it is committed. */
    run<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        // The first job starts a commit at once; jobs arriving meanwhile wait for the next.
        if (!running) void drain();
      });
    },
  };
}

export type GroupCommit = ReturnType<typeof makeGroupCommit>;
