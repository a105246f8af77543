import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import type { Connection, DialectCaps } from '../dialects/types.js';
import { consentMigration } from './0003_consent.js';
import { schedulingMigration } from './0007_scheduling.js';
import { campaignsMigration } from './0008_campaigns.js';
import { historyMigration } from './0009_history.js';
import { statsMigration } from './0010_stats.js';
import { providerCodeMigration } from './0011_provider_code.js';
import { statsWithdrawnMigration } from './0012_stats_withdrawn.js';
import { phoneScansMigration } from './0013_phone_scans.js';
import { requestIdMigration } from './0014_request_id.js';
import { robotRequestIdMigration } from './0015_robot_request_id.js';

/**
 * Migrations are code, keyed by a sortable name, written once for both backends; the few
 * type differences come from DialectCaps.
 */
function migrations(caps: DialectCaps): Record<string, Migration> {
  const ts = caps.bigint;
  return {
    '0001_core': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('portals')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('domain', 'text', (c) => c.notNull())
          .addColumn('client_endpoint', 'text', (c) => c.notNull())
          .addColumn('server_endpoint', 'text', (c) => c.notNull())
          .addColumn('access_token', 'text', (c) => c.notNull())
          .addColumn('refresh_token', 'text', (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .addColumn('application_token', 'text')
          .addColumn('handler_key', 'text', (c) => c.notNull().unique())
          .addColumn('dlr_key', 'text', (c) => c.notNull().unique())
          .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
          .addColumn('registered_at', ts)
          .addColumn('installed_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('portal_id', 'text', (c) => c.references('portals.id'))
          .addColumn('b24_message_id', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('phone_raw', 'text', (c) => c.notNull())
          .addColumn('phone', 'text')
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('alpha_name', 'text', (c) => c.notNull())
          .addColumn('bindings', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('fail_reason', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('run_at', ts, (c) => c.notNull())
          .addColumn('locked_by', 'text')
          .addColumn('locked_at', ts)
          .addColumn('unsure', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('mts_message_id', 'text')
          .addColumn('mts_status', 'text')
          .addColumn('mts_substatus', 'integer')
          .addColumn('mts_hyber_status', 'integer')
          .addColumn('total_parts', 'integer')
          .addColumn('delivered_parts', 'integer')
          .addColumn('accepted_at', ts)
          .addColumn('final_at', ts)
          .addColumn('next_poll_at', ts)
          .addColumn('polls', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('b24_status', 'text', (c) => c.notNull())
          .addColumn('b24_pushed_status', 'text')
          .addColumn('push_pending', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('push_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('push_run_at', ts, (c) => c.notNull().defaultTo(0))
          .addColumn('push_error', 'text')
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        // The same Bitrix24 message_id twice is one message.
        await db.schema
          .createIndex('messages_portal_b24_id')
          .on('messages')
          .columns(['portal_id', 'b24_message_id'])
          .unique()
          .execute();
        await db.schema
          .createIndex('messages_mts_id')
          .on('messages')
          .column('mts_message_id')
          .execute();
        // Partial indexes keep the worker scans proportional to the work, not to history.
        await db.schema
          .createIndex('messages_due')
          .on('messages')
          .columns(['run_at'])
          .where(sql.ref('state'), '=', 'queued')
          .execute();
        await db.schema
          .createIndex('messages_sending')
          .on('messages')
          .columns(['locked_at'])
          .where(sql.ref('state'), '=', 'sending')
          .execute();
        await db.schema
          .createIndex('messages_poll')
          .on('messages')
          .columns(['next_poll_at'])
          .where(sql.ref('next_poll_at'), 'is not', null)
          .execute();
        await db.schema
          .createIndex('messages_push')
          .on('messages')
          .columns(['portal_id', 'push_run_at'])
          .where(sql.ref('push_pending'), '=', 1)
          .execute();
        await db.schema
          .createIndex('messages_created')
          .on('messages')
          .column('created_at')
          .execute();

        await db.schema
          .createTable('delivery_reports')
          .addColumn('id', sql.raw(caps.autoIncrement) as never)
          .addColumn('message_id', 'text')
          .addColumn('mts_message_id', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('received_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('delivery_reports_message')
          .on('delivery_reports')
          .column('message_id')
          .execute();

        await db.schema
          .createTable('rate_limits')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('next_at', ts, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .execute();
      },
    },
    '0002_rate_window': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rate_events')
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('rate_events_key_at')
          .on('rate_events')
          .columns(['key', 'at'])
          .execute();
      },
    },
    '0003_timeline_note': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
      async up(db: Kysely<any>) {
        // 1 once the CRM timeline note about a failure was added: a retried batch must not add it twice.
        await db.schema
          .alterTable('messages')
          .addColumn('timeline_noted', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0004_robot_jobs': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('robot_jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('portal_id', 'text', (c) => c.notNull().references('portals.id'))
          .addColumn('event_token', 'text', (c) => c.notNull().unique())
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('document_id', 'text', (c) => c.notNull())
          .addColumn('properties', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('run_at', ts, (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('message_id', 'text')
          .addColumn('event_state', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('event_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('event_run_at', ts, (c) => c.notNull().defaultTo(0))
          .addColumn('return_values', 'text')
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('robot_jobs_due')
          .on('robot_jobs')
          .columns(['state', 'run_at'])
          .execute();
        await db.schema
          .createIndex('robot_jobs_events')
          .on('robot_jobs')
          .columns(['event_state', 'event_run_at'])
          .execute();
      },
    },
    '0005_consent': consentMigration(caps),
    '0006_due_at': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
      async up(db: Kysely<any>) {
        await db.schema.alterTable('messages').addColumn('due_at', ts).execute();
      },
    },
    '0007_scheduling': schedulingMigration(caps),
    '0008_campaigns': campaignsMigration(caps),
    '0009_history': historyMigration(caps),
    '0010_stats': statsMigration(caps),
    '0011_provider_code': providerCodeMigration,
    '0012_stats_withdrawn': statsWithdrawnMigration(caps),
    '0013_phone_scans': phoneScansMigration(caps),
    '0014_request_id': requestIdMigration,
    '0015_robot_request_id': robotRequestIdMigration,
  };
}

export interface MigrateResult {
  applied: string[];
  error?: unknown;
}

/** Brings the schema up to date; safe to run from several instances at once (Kysely locks). */
function otherSchemaVanished(error: unknown, ours: string | undefined): boolean {
  // The introspector's catalog query calls pg_get_serial_sequence for every column of every
  // table: a table or column dropped in another schema meanwhile fails it the same way.
  if ((error as { routine?: unknown } | undefined)?.routine === 'pg_get_serial_sequence')
    return true;
  const name = /schema "([^"]+)" does not exist/.exec(
    error instanceof Error ? error.message : '',
  )?.[1];
  return name !== undefined && name !== ours;
}

export async function migrate(conn: Connection): Promise<MigrateResult> {
  if (conn.schema) await sql`create schema if not exists ${sql.id(conn.schema)}`.execute(conn.db);
  const migrator = new Migrator({
    db: conn.db,
    provider: { getMigrations: async () => migrations(conn.caps) },
    ...(conn.schema ? { migrationTableSchema: conn.schema } : {}),
  });
  // Kysely's migrator introspects every schema of the database. Another schema dropped at
  // that moment (other tenants, test runs) fails the catalog query with "schema … does not
  // exist" (or, from pg_get_serial_sequence, a vanished relation or column); the migration
  // ran in a rolled-back transaction, so trying again is safe.
  let outcome = await migrator.migrateToLatest();
  for (let attempt = 1; attempt < 5 && otherSchemaVanished(outcome.error, conn.schema); attempt++) {
    await new Promise((r) => setTimeout(r, 50 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results } = outcome;
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error)
    throw new Error(
      `database migration failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  return { applied };
}
