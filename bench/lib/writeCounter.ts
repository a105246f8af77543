/**
 * Counts what an idle service writes to its database, with plain SQL on the bench's copy:
 *  - rows: an AFTER INSERT/UPDATE/DELETE row trigger on every table notes
 *    (table, operation[, transaction id]) in `bench_writes` (created by the bench; its own
 *    inserts are not counted);
 *  - transactions: on PostgreSQL the distinct transaction ids in those notes (exact); on
 *    SQLite, which has no transaction ids, `PRAGMA data_version` polled every 2 ms on a
 *    connection of the bench — it changes when another connection commits a change (two
 *    commits within 2 ms count once: a lower bound). pg_stat_user_tables is read as well,
 *    as a cross-check (PostgreSQL flushes those counters lazily, up to seconds late).
 */
import type { BenchDb } from './database.js';

const TABLE = 'bench_writes';

async function tables(db: BenchDb): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>(
          "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
        )
      : await db.query<{ name: string }>(
          `select tablename as name from pg_tables where schemaname = '${db.schema}'`,
        );
  return rows.map((r) => r.name).filter((t) => t !== TABLE);
}

/** Creates `bench_writes` and the triggers; run after migrate, before the service starts. */
export async function installWriteCounter(db: BenchDb): Promise<string[]> {
  const names = await tables(db);
  if (db.dialect === 'sqlite') {
    await db.exec(`create table ${TABLE} (tbl text not null, op text not null)`);
    for (const t of names)
      for (const op of ['insert', 'update', 'delete'])
        await db.exec(
          `create trigger bench_w_${t}_${op} after ${op} on "${t}" begin insert into ${TABLE} (tbl, op) values ('${t}', '${op}'); end`,
        );
    return names;
  }
  const s = db.schema;
  await db.exec(
    `create table ${s}.${TABLE} (id bigserial primary key, tbl text not null, op text not null, txid bigint not null)`,
  );
  await db.exec(`create function ${s}.bench_note_write() returns trigger language plpgsql as $$
    begin
      insert into ${s}.${TABLE} (tbl, op, txid) values (tg_table_name, lower(tg_op), txid_current());
      return null;
    end $$`);
  for (const t of names)
    await db.exec(
      `create trigger bench_w after insert or update or delete on ${s}."${t}" for each row execute function ${s}.bench_note_write()`,
    );
  return names;
}

export interface WriteCount {
  rows: number;
  /** "table op": rows. */
  byTable: Record<string, number>;
  /** Write transactions (PostgreSQL) or commits seen (SQLite, lower bound). */
  transactions: number;
  /** pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del over the window (PostgreSQL only). */
  pgStatRows?: number;
}

export interface WriteWindow {
  stop(): Promise<WriteCount>;
}

async function pgStatRows(db: BenchDb): Promise<number> {
  await db.exec('select pg_stat_clear_snapshot()');
  const r = await db.query<{ n: string | number }>(
    `select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) as n from pg_stat_user_tables
      where schemaname = '${db.schema}' and relname <> '${TABLE}'`,
  );
  return Number(r[0]?.n ?? 0);
}

/** Starts counting now; `stop()` returns what was written in between. */
export async function openWriteWindow(db: BenchDb): Promise<WriteWindow> {
  const key = db.dialect === 'sqlite' ? 'rowid' : 'id';
  const mark = Number(
    (await db.query<{ m: number | string | null }>(`select max(${key}) as m from ${TABLE}`))[0]
      ?.m ?? 0,
  );
  let commits = 0;
  let timer: NodeJS.Timeout | undefined;
  const stat0 = db.dialect === 'postgres' ? await pgStatRows(db) : 0;
  if (db.dialect === 'sqlite') {
    const raw = db.sqlite();
    let last = raw.pragma('data_version', { simple: true }) as number;
    timer = setInterval(() => {
      const v = raw.pragma('data_version', { simple: true }) as number;
      if (v !== last) {
        commits++;
        last = v;
      }
    }, 2);
  }
  return {
    async stop() {
      if (timer) clearInterval(timer);
      const rows = await db.query<{ tbl: string; op: string; n: number | string }>(
        `select tbl, op, count(*) as n from ${TABLE} where ${key} > ${mark} group by tbl, op order by tbl, op`,
      );
      const byTable: Record<string, number> = {};
      let total = 0;
      for (const r of rows) {
        byTable[`${r.tbl} ${r.op}`] = Number(r.n);
        total += Number(r.n);
      }
      if (db.dialect === 'sqlite') return { rows: total, byTable, transactions: commits };
      const tx = await db.query<{ n: number | string }>(
        `select count(distinct txid) as n from ${TABLE} where id > ${mark}`,
      );
      return {
        rows: total,
        byTable,
        transactions: Number(tx[0]?.n ?? 0),
        pgStatRows: (await pgStatRows(db)) - stat0,
      };
    },
  };
}
