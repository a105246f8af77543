import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';

/**
 * Campaigns (issue 10): a mass send this service runs itself. The audience is computed once,
 * at `campaign create`, and stored recipient by recipient (with the reason of every
 * exclusion); the feeder then moves recipients into the outbox a few seconds of sending at a
 * time, marking each recipient `fed` with its message id in the same transaction as the
 * message's insert — so a crash at any point neither skips nor repeats anyone.
 */
export function campaignsMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('campaigns')
        .addColumn('id', sql.raw(caps.autoIncrement) as never)
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('template', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_detail', 'text')
        .addColumn('alpha_name', 'text', (c) => c.notNull())
        .addColumn('send_at', ts)
        .addColumn('timeline', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('recipients', 'integer', (c) => c.notNull())
        .addColumn('excluded', 'text', (c) => c.notNull())
        .addColumn('parts', 'integer', (c) => c.notNull())
        .addColumn('cost', 'real')
        .addColumn('duration_s', 'integer', (c) => c.notNull())
        .addColumn('fed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addColumn('started_at', ts)
        .addColumn('finished_at', ts)
        .execute();
      await db.schema
        .createIndex('campaigns_active')
        .on('campaigns')
        .column('id')
        .where(sql.ref('state'), '=', 'running')
        .execute();

      await db.schema
        .createTable('campaign_recipients')
        .addColumn('campaign_id', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('phone', 'text')
        .addColumn('phone_raw', 'text')
        .addColumn('entity_type', 'text')
        .addColumn('entity_id', 'integer')
        .addColumn('text', 'text')
        .addColumn('parts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('excluded', 'text')
        .addColumn('detail', 'text')
        .addColumn('message_id', 'text')
        .addPrimaryKeyConstraint('campaign_recipients_pk', ['campaign_id', 'seq'])
        .execute();
      // The feeder reads a campaign's next pending recipients in order.
      await db.schema
        .createIndex('campaign_recipients_pending')
        .on('campaign_recipients')
        .columns(['campaign_id', 'seq'])
        .where(sql.ref('state'), '=', 'pending')
        .execute();
      // A campaign's messages: progress counts, and withdrawing the unsent ones on pause.
      await db.schema
        .createIndex('messages_campaign')
        .on('messages')
        .columns(['campaign_id', 'state'])
        .where(sql.ref('campaign_id'), 'is not', null)
        .execute();
    },
  };
}
