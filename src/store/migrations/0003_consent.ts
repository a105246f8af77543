import type { Kysely, Migration } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';

/**
 * Marketing consent: the per-portal registry mirrored from the CRM, its sync cursors, the
 * numbers a live lookup found nowhere, and the opt-out list.
 *
 * Every statement is `if not exists`, so running `up` on a database that already has these
 * tables is a no-op: tests apply it directly before it is registered in `migrations()`, and
 * registering it later does not break those databases.
 *
 * Register it under a key that sorts after every migration already applied anywhere (the
 * file name's number was taken by `0003_timeline_note` meanwhile): Kysely refuses a new
 * migration that sorts before executed ones.
 */
export function consentMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  return {
    async up(db: Kysely<unknown>) {
      // One row per (CRM record, phone on it): a record with three numbers has three rows, and
      // a number on several records has one row per record, so conflicts stay visible.
      await db.schema
        .createTable('consent_records')
        .ifNotExists()
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('entity_type', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'integer', (c) => c.notNull())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('consent', 'integer')
        .addColumn('modified_at', ts)
        .addColumn('synced_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_records_pk', [
          'portal_id',
          'entity_type',
          'entity_id',
          'phone',
        ])
        .execute();
      await db.schema
        .createIndex('consent_records_phone')
        .ifNotExists()
        .on('consent_records')
        .columns(['portal_id', 'phone'])
        .execute();

      await db.schema
        .createTable('consent_misses')
        .ifNotExists()
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('checked_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_misses_pk', ['portal_id', 'phone'])
        .execute();

      await db.schema
        .createTable('consent_sync')
        .ifNotExists()
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('entity_type', 'text', (c) => c.notNull())
        .addColumn('since', ts)
        .addColumn('pass_started_at', ts)
        .addColumn('pass_full', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_id', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('pass_max_modified', ts)
        .addColumn('full_synced_at', ts)
        .addColumn('last_synced_at', ts)
        .addColumn('last_error', 'text')
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_sync_pk', ['portal_id', 'entity_type'])
        .execute();

      await db.schema
        .createTable('optouts')
        .ifNotExists()
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('optouts_pk', ['phone', 'scope'])
        .execute();
    },
  };
}
