import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCaps } from '../dialects/types.js';

/**
 * Scheduling (issue 9): MTS contracts as data, lanes (priority) with fairness between
 * portals and campaigns (a virtual time per flow), alpha-name holds, and the columns the
 * lookup grace needs.
 */
export function schedulingMigration(caps: DialectCaps): Migration {
  const ts = caps.bigint;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('contracts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('api_url', 'text')
        .addColumn('client_id', 'text')
        .addColumn('login', 'text')
        .addColumn('password_enc', 'text')
        .addColumn('token_enc', 'text')
        .addColumn('sender', 'text')
        .addColumn('sender_marketing', 'text')
        .addColumn('rate', 'real', (c) => c.notNull())
        .addColumn('pace', 'real', (c) => c.notNull().defaultTo(1))
        .addColumn('pace_at', ts, (c) => c.notNull().defaultTo(0))
        .addColumn('next_slot_us', ts, (c) => c.notNull().defaultTo(0))
        .addColumn('paused_until', ts)
        .addColumn('pause_reason', 'text')
        .addColumn('pause_code', 'text')
        .addColumn('paused_since', ts)
        .addColumn('probe_interval_ms', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('alpha_holds')
        .addColumn('contract_id', 'text', (c) => c.notNull())
        .addColumn('alpha_name', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('code', 'text')
        .addColumn('since', ts, (c) => c.notNull())
        .addColumn('probe_at', ts, (c) => c.notNull())
        .addColumn('interval_ms', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('alpha_holds_pk', ['contract_id', 'alpha_name'])
        .execute();

      await db.schema
        .createTable('flows')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('last_vt', ts, (c) => c.notNull())
        .execute();

      // Bitrix24 counts REST requests per portal and source IP: every instance behind one
      // address spends one budget, so its leaky bucket lives here.
      await db.schema
        .createTable('rest_budgets')
        .addColumn('portal_id', 'text', (c) => c.primaryKey())
        .addColumn('level', 'real', (c) => c.notNull())
        .addColumn('at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .alterTable('messages')
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('messages')
        .addColumn('contract_id', 'text', (c) => c.notNull().defaultTo('default'))
        .execute();
      await db.schema
        .alterTable('messages')
        .addColumn('vt', ts, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('messages').addColumn('campaign_id', 'text').execute();
      await db.schema.alterTable('messages').addColumn('hold_reason', 'text').execute();
      await db.schema.alterTable('messages').addColumn('attempted_at', ts).execute();
      // Existing marketing rows go to the marketing lane.
      await sql`update messages set priority = 1 where kind = 'marketing'`.execute(db);
      await sql`update messages set vt = run_at`.execute(db);
      // The claim: highest lane first, then the fair order (virtual time) inside it.
      await db.schema
        .createIndex('messages_claim')
        .on('messages')
        .columns(['contract_id', 'priority', 'vt', 'created_at'])
        .where(sql.ref('state'), '=', 'queued')
        .execute();
      await db.schema
        .createIndex('messages_held')
        .on('messages')
        .columns(['contract_id', 'alpha_name'])
        .where(sql.ref('state'), '=', 'held')
        .execute();
      // Retention walks final messages by age.
      await db.schema
        .createIndex('messages_final')
        .on('messages')
        .column('final_at')
        .where(sql.ref('final_at'), 'is not', null)
        .execute();
    },
  };
}
