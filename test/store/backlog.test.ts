import { type Compilable, CompiledQuery } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backlogQueries, backlogSummary } from '../../src/store/backlog.js';
import type { Connection } from '../../src/store/dialects/types.js';
import { insertMessage, transition } from '../../src/store/outbox.js';
import { createTestDb, DIALECTS, seedPortal, type TestDb, testMessage } from '../helpers/db.js';

const T0 = 1_800_000_000_000;
const HISTORY = 20_000;
/** The partial indexes of waiting work (migrations 0001 and 0007). */
const WAITING_INDEXES = ['messages_claim', 'messages_due', 'messages_held', 'messages_sending'];

/** Finished messages (history), written with plain SQL: the store read must not read them. */
async function seedHistory(conn: Connection, n: number): Promise<void> {
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

interface PlanUse {
  /** Indexes on `messages` the plan reads. */
  indexes: string[];
  /** True when some step reads the whole table. */
  tableScan: boolean;
  /** PostgreSQL only: rows the scans of `messages` returned (EXPLAIN ANALYZE). */
  rowsRead?: number;
}

/** What a query's plan reads of `messages`, from the backend's own EXPLAIN. */
async function planOf(conn: Connection, q: Compilable): Promise<PlanUse> {
  const { sql: text, parameters } = q.compile();
  if (conn.caps.name === 'sqlite') {
    const r = await conn.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${text}`, [...parameters]),
    );
    const steps = r.rows.map((row) => row.detail).filter((d) => /\bmessages\b/.test(d));
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
    if (node['Relation Name'] === 'messages' || node['Index Name']) {
      if (node['Node Type'] === 'Seq Scan') use.tableScan = true;
      if (typeof node['Index Name'] === 'string') use.indexes.push(node['Index Name']);
      if (node['Relation Name'] === 'messages')
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

for (const dialect of DIALECTS)
  describe(`backlogSummary on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(dialect);
      await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
      await seedPortal(t.conn, 'member2', 'b.bitrix24.by');
    });
    afterEach(() => t.cleanup());

    /** A waiting mix: transactional and marketing, due and later, held and sending. */
    async function seedWaiting(): Promise<void> {
      const marketing = { kind: 'marketing' as const, source: 'sender', priority: 1 };
      for (let i = 0; i < 5; i++) await insertMessage(t.conn, testMessage(), T0 - 60_000 + i);
      for (let i = 0; i < 7; i++)
        await insertMessage(t.conn, testMessage({ ...marketing, alphaName: 'PROMO' }), T0 + i);
      // Quiet hours: marketing that waits until 09:00.
      for (let i = 0; i < 4; i++)
        await insertMessage(
          t.conn,
          testMessage({ ...marketing, portalId: 'member2', sendAt: T0 + 3_600_000 }),
          T0,
        );
      for (let i = 0; i < 3; i++)
        await insertMessage(
          t.conn,
          testMessage({ ...marketing, campaignId: 'c1', contractId: 'portal:member2' }),
          T0,
        );
      const held = (
        await insertMessage(t.conn, testMessage({ ...marketing, alphaName: 'NOPE' }), T0)
      ).message;
      await transition(t.conn, held.id, 'queued', { state: 'held', hold_reason: 'refused' }, T0);
      const sending = (await insertMessage(t.conn, testMessage(), T0)).message;
      await transition(t.conn, sending.id, 'queued', { state: 'sending', locked_at: T0 }, T0);
    }

    it('counts the waiting work by contract and lane, portal, campaign and reason', async () => {
      await seedHistory(t.conn, 500);
      await seedWaiting();
      const s = await backlogSummary(t.conn, T0 + 1000);
      expect(s.total).toBe(5 + 7 + 4 + 3 + 1 + 1);
      expect(s.oldestCreatedAt).toBe(T0 - 60_000);
      expect(s.lanes).toEqual([
        {
          contractId: 'default',
          priority: 0,
          due: 5,
          later: 0,
          held: 0,
          sending: 1,
          queuedByAlpha: { BRAND: 5 },
          oldestCreatedAt: T0 - 60_000,
        },
        {
          contractId: 'default',
          priority: 1,
          due: 7,
          later: 4,
          held: 1,
          sending: 0,
          queuedByAlpha: { PROMO: 7, BRAND: 4 },
          oldestCreatedAt: T0,
        },
        {
          contractId: 'portal:member2',
          priority: 1,
          due: 3,
          later: 0,
          held: 0,
          sending: 0,
          queuedByAlpha: { BRAND: 3 },
          oldestCreatedAt: T0,
        },
      ]);
      expect(s.portals).toEqual([
        { portalId: 'member1', waiting: 17, oldestCreatedAt: T0 - 60_000 },
        { portalId: 'member2', waiting: 4, oldestCreatedAt: T0 },
      ]);
      expect(s.campaigns).toEqual([{ campaignId: 'c1', waiting: 3 }]);
      expect(s.held).toEqual([
        { contractId: 'default', priority: 1, alphaName: 'NOPE', reason: 'refused', count: 1 },
      ]);
      expect(s.scheduled).toEqual([
        { contractId: 'default', priority: 1, at: T0 + 3_600_000, count: 4 },
      ]);
    });

    it('is empty on an empty queue, whatever the history', async () => {
      await seedHistory(t.conn, 300);
      const s = await backlogSummary(t.conn, T0);
      expect(s).toEqual({
        at: T0,
        total: 0,
        oldestCreatedAt: null,
        lanes: [],
        portals: [],
        campaigns: [],
        held: [],
        scheduled: [],
      });
    });

    it(`reads only waiting rows through their partial indexes, never ${HISTORY} finished ones`, async () => {
      await seedHistory(t.conn, HISTORY);
      await seedWaiting();
      const waiting = (await backlogSummary(t.conn, T0 + 1000)).total;
      for (const [name, q] of Object.entries(backlogQueries(t.conn, T0 + 1000))) {
        const plan = await planOf(t.conn, q);
        expect(plan.tableScan, `${name} scans the table`).toBe(false);
        expect(plan.indexes.length, `${name} uses an index`).toBeGreaterThan(0);
        for (const index of plan.indexes)
          expect(WAITING_INDEXES, `${name} reads ${index}`).toContain(index);
        if (plan.rowsRead !== undefined)
          expect(plan.rowsRead, `${name} rows read`).toBeLessThanOrEqual(waiting);
      }
    }, 60_000);
  });
