import { type Compilable, CompiledQuery } from 'kysely';
import type { Connection } from '../../src/store/dialects/types.js';

/** Finished messages (history), written with plain SQL: the store read must not read them. */
export async function seedHistory(conn: Connection, n: number, T0: number): Promise<void> {
  const cols =
    'id, portal_id, source, kind, phone_raw, text, alpha_name, state, run_at, b24_status, final_at, created_at, updated_at, contract_id, priority';
  const values = (i: string) =>
    `'h' || ${i}, 'member1', 'sender', 'marketing', '+375291234567', 'old', 'BRAND', 'DELIVRD', ${T0 - 86_400_000}, 'delivered', ${T0 - 86_000_000}, ${T0 - 86_400_000} + ${i}, ${T0}, 'default', 1`;
  const text =
    conn.caps.name === 'sqlite'
      ? `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${n}) insert into messages (${cols}) select ${values('i')} from n`
      : `insert into messages (${cols}) select ${values('i')} from generate_series(1, ${n}) as i`;
  await conn.db.executeQuery(CompiledQuery.raw(text, []));
  await conn.db.executeQuery(CompiledQuery.raw('analyze', []));
}

export interface PlanUse {
  /** Indexes on the table the plan reads. */
  indexes: string[];
  /** True when some step reads the whole table. */
  tableScan: boolean;
  /** PostgreSQL only: rows the scans of the table returned (EXPLAIN ANALYZE). */
  rowsRead?: number;
}

/** What a query's plan reads of `table`, from the backend's own EXPLAIN. */
export async function planOf(
  conn: Connection,
  q: Compilable,
  table = 'messages',
): Promise<PlanUse> {
  const { sql: text, parameters } = q.compile();
  if (conn.caps.name === 'sqlite') {
    const r = await conn.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${text}`, [...parameters]),
    );
    const steps = r.rows
      .map((row) => row.detail)
      .filter((d) => new RegExp(`\\b${table}\\b`).test(d));
    return {
      indexes: steps.flatMap((d) => /USING (?:COVERING )?INDEX (\w+)/.exec(d)?.[1] ?? []),
      tableScan: steps.some((d) => !/USING (?:COVERING )?INDEX/.test(d)),
    };
  }
  const r = await conn.db.executeQuery<{ 'QUERY PLAN': unknown }>(
    CompiledQuery.raw(`explain (analyze, format json) ${text}`, [...parameters]),
  );
  const use: PlanUse = { indexes: [], tableScan: false, rowsRead: 0 };
  const walk = (node: Record<string, unknown>) => {
    if (node['Relation Name'] === table || node['Index Name']) {
      if (node['Node Type'] === 'Seq Scan') use.tableScan = true;
      if (typeof node['Index Name'] === 'string') use.indexes.push(node['Index Name']);
      if (node['Relation Name'] === table)
        use.rowsRead =
          (use.rowsRead ?? 0) + Number(node['Actual Rows']) * Number(node['Actual Loops'] ?? 1);
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = r.rows[0]?.['QUERY PLAN'];
  const doc = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: object }[];
  walk(doc[0]?.Plan as Record<string, unknown>);
  return use;
}
