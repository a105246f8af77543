import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';
import { COUNTERS, countersOf, KEY_COLUMNS, keyOf } from './statsSql.js';

/**
 * Pre-aggregated delivery figures (issue 11): the overview must answer in ≤ 200 ms with a
 * million messages stored, and must not shrink when retention deletes old messages.
 *
 * A trigger on `messages` appends one row to `stats_deltas` when a message is created and
 * when its Bitrix24 status or its MTS acceptance changes: +1 / −1 per counter, keyed by the
 * message's Minsk day, portal, alpha name, type and campaign (none of which changes after
 * intake). The trigger only inserts — no row is updated by two transactions, so several
 * instances on PostgreSQL never wait on (or deadlock over) a hot counter row. A background
 * pass (workers/statsRollup.ts, one instance at a time) folds the deltas into `stats_days`,
 * one row per key; readers add the few deltas not folded yet, so the figures are exact at
 * every moment. Being in the database, the trigger covers every path that writes a status,
 * the ones written later included.
 */

function insertDelta(caps: DialectCaps, op: 'insert' | 'update'): string {
  const now = countersOf(caps, 'NEW');
  const before = countersOf(caps, 'OLD');
  const values =
    op === 'insert' ? now : ['0', ...now.slice(1).map((c, i) => `${c} - ${before[i + 1]}`)];
  return `insert into stats_deltas (${KEY_COLUMNS}, ${COUNTERS})
    values (${keyOf('NEW')}, ${values.join(', ')})`;
}

export function statsMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  const changed = `(OLD.b24_status <> NEW.b24_status
    or (OLD.accepted_at is null) <> (NEW.accepted_at is null))`;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      for (const table of ['stats_days', 'stats_deltas']) {
        let t = db.schema.createTable(table);
        if (table === 'stats_deltas') t = t.addColumn('id', sql.raw(caps.autoIncrement) as never);
        t = t
          .addColumn('day', 'integer', (c) => c.notNull())
          .addColumn('portal_id', 'text', (c) => c.notNull())
          .addColumn('alpha_name', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull());
        for (const n of COUNTERS.split(', ')) t = t.addColumn(n, ts, (c) => c.notNull());
        if (table === 'stats_days')
          t = t.addPrimaryKeyConstraint('stats_days_pk', [
            'day',
            'portal_id',
            'alpha_name',
            'type',
            'campaign_id',
          ] as never);
        await t.execute();
      }

      if (caps.name === 'postgres') {
        await sql
          .raw(`create function messages_stats() returns trigger language plpgsql as $$
begin
  if TG_OP = 'INSERT' then
    ${insertDelta(caps, 'insert')};
  elsif ${changed} then
    ${insertDelta(caps, 'update')};
  end if;
  return null;
end $$`)
          .execute(db);
        await sql
          .raw(`create trigger messages_stats after insert or update of b24_status, accepted_at
  on messages for each row execute function messages_stats()`)
          .execute(db);
      } else {
        await sql
          .raw(`create trigger messages_stats_insert after insert on messages
  begin ${insertDelta(caps, 'insert')}; end`)
          .execute(db);
        await sql
          .raw(`create trigger messages_stats_update after update of b24_status, accepted_at
  on messages when ${changed}
  begin ${insertDelta(caps, 'update')}; end`)
          .execute(db);
      }

      // The messages stored before this migration, counted once.
      const sums = countersOf(caps, 'm')
        .map((c) => `sum(${c})`)
        .join(', ');
      await sql
        .raw(`insert into stats_days (${KEY_COLUMNS}, ${COUNTERS})
  select ${keyOf('m')}, ${sums} from messages m group by 1, 2, 3, 4, 5`)
        .execute(db);
    },
  };
}
