import { inTransaction } from './connection.js';
import type { Connection } from './dialects/types.js';

type Job = {
  fn: (conn: Connection) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** performance.now() by which its group should start. */
  deadline: number;
};

export interface GroupCommitOptions {
  maxBatch?: number;
  /**
   * How long a job may wait for companions before its group starts (default 0: at once, or
   * as soon as a group slot is free). `run` can give each job its own.
   */
  lingerMs?: number;
  /** Groups in flight at once (default 2). */
  pipeline?: number;
}

/**
 * Group commit: work that arrives while a commit is in progress is committed together in the
 * next transaction, so N concurrent handler POSTs cost one commit (one fsync) instead of N.
 * Every caller still gets its promise only after its own work is durable. If a grouped
 * transaction fails, its jobs are retried one by one, so one bad job never fails the others.
 *
 * Each job says how long it may wait (`lingerMs`): a group starts when the most impatient job
 * in the queue is due, and takes everything queued. So work nobody waits on (send outcomes:
 * a crash only turns a lost one into a lookup by extra_id) lingers and rides along with the
 * next urgent commit — a handler POST, a delivery report — instead of costing commits of its
 * own: on SQLite each commit writes every index page it touched to the WAL again.
 *
 * Two groups may be in flight: while one waits for its fsync (SQLite: in the thread pool,
 * see dialects/walSync.ts), the next one already runs its statements and commits. A group
 * takes its jobs only once it holds the transaction, so it includes everything that
 * arrived while it waited for the connection.
 */
export function makeGroupCommit(conn: Connection, opts: GroupCommitOptions = {}) {
  const maxBatch = opts.maxBatch ?? 200;
  const defaultLinger = opts.lingerMs ?? 0;
  const pipeline = Math.max(1, opts.pipeline ?? 2);
  let queue: Job[] = [];
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;

  const single = (j: Job) => inTransaction(conn, j.fn).then(j.resolve, j.reject);

  /** Starts a group when the most impatient queued job is due (and a slot is free). */
  function schedule(): void {
    if (queue.length === 0 || active >= pipeline) return;
    let due = Number.POSITIVE_INFINITY;
    for (const j of queue) if (j.deadline < due) due = j.deadline;
    const delay = due - performance.now();
    if (delay <= 0) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      void group();
      return;
    }
    if (due >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = due;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      schedule();
    }, delay);
  }

  async function group(): Promise<void> {
    active++;
    let jobs: Job[] = [];
    try {
      const results = await inTransaction(conn, async (tconn) => {
        jobs = queue.slice(0, maxBatch);
        queue = queue.slice(jobs.length);
        const out: unknown[] = [];
        for (const j of jobs) out.push(await j.fn(tconn));
        return out;
      });
      jobs.forEach((j, i) => {
        j.resolve(results[i]);
      });
    } catch (err) {
      // Failed before it took its jobs (no transaction could start): each of them tries alone
      // and gets its own answer, rather than waiting for the next group forever.
      if (jobs.length === 0) {
        jobs = queue.slice(0, maxBatch);
        queue = queue.slice(jobs.length);
      }
      if (jobs.length === 1) (jobs[0] as Job).reject(err);
      else for (const j of jobs) await single(j);
    } finally {
      active--;
      schedule();
    }
  }

  return {
    /**
     * Runs `fn` inside a (shared) transaction; resolves once it is committed. `lingerMs`: how
     * long this job may wait for companions (default: the group's).
     */
    run<T>(fn: (conn: Connection) => Promise<T>, o: { lingerMs?: number } = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const deadline = performance.now() + (o.lingerMs ?? defaultLinger);
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, deadline });
        schedule();
      });
    },
  };
}

export type GroupCommit = ReturnType<typeof makeGroupCommit>;
