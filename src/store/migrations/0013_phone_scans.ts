import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';

/**
 * The phone base's last scan per portal (issue 11): `phones scan` records its summary and its
 * report (the CSV, one chunk per page of records read) so the admin API can show and download
 * it. A finished scan replaces the portal's earlier ones.
 */
export function phoneScansMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('phone_scans')
        .addColumn('id', sql.raw(caps.autoIncrement) as never)
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', ts, (c) => c.notNull())
        .addColumn('finished_at', ts)
        .addColumn('tally', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createTable('phone_scan_chunks')
        .addColumn('scan_id', ts, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('phone_scan_chunks_pk', ['scan_id', 'seq'] as never)
        .execute();
    },
  };
}
