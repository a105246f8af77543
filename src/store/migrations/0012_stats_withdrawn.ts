import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';
import { COUNTERS, countersOf, KEY_COLUMNS, keyOf } from './statsSql.js';

/**
 * A message taken back out of the outbox before it was sent (a campaign paused or cancelled:
 * store/campaigns.ts withdrawCampaignMessages deletes its not-yet-final rows, and a resume
 * feeds the recipient again as a new row) no longer counts in the delivery figures: one
 * −1 delta of everything it counted. Retention deletes only final messages, which keep
 * counting (the figures outlive the history).
 */
function subtractOld(caps: DialectCaps): string {
  return `insert into stats_deltas (${KEY_COLUMNS}, ${COUNTERS})
    values (${keyOf('OLD')}, ${countersOf(caps, 'OLD')
      .map((c) => `-${c}`)
      .join(', ')})`;
}

export function statsWithdrawnMigration(caps: DialectCaps): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      if (caps.name === 'postgres') {
        await sql
          .raw(`create function messages_stats_withdrawn() returns trigger language plpgsql as $$
begin
  ${subtractOld(caps)};
  return null;
end $$`)
          .execute(db);
        await sql
          .raw(`create trigger messages_stats_withdrawn after delete on messages
  for each row when (OLD.final_at is null) execute function messages_stats_withdrawn()`)
          .execute(db);
      } else {
        await sql
          .raw(`create trigger messages_stats_withdrawn after delete on messages
  when OLD.final_at is null
  begin ${subtractOld(caps)}; end`)
          .execute(db);
      }
    },
  };
}
